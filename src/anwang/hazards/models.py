"""Models of the hazards domain."""
