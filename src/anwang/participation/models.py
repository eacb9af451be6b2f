"""Models of the participation domain."""
