"""interfaces cli."""
