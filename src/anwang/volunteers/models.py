"""Models of the volunteers domain."""
