"""Models of the marketdata app."""
