"""The ingestion pipeline: protocol adapters, normalised events, dedup, storage, the worker."""
