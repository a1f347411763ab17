"""Routes (to be built)."""
