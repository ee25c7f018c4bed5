"""Related threads, "has this been asked?" and duplicate suggestions."""
