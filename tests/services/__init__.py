"""Tests that need an outside service (PostgreSQL now; Mosquitto and NATS later)."""
