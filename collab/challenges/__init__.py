"""Challenges: a question posed to the crowd, in phases, with vote budgets, evaluation and decisions."""
