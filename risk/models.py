"""Models of the risk app."""
