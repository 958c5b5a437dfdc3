"""Issue 16: written by its slice (declared in .importlinter beforehand)."""
