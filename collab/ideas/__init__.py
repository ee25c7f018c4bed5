"""Idea voting, the idea status lifecycle and merging duplicates."""
