"""Expertise location: who knows what, from evidence in content the caller may see."""
