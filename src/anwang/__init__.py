"""Anwang (安网): an open-source community safety platform."""

__version__ = "0.1.0"
