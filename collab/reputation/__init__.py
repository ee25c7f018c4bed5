"""Reputation: points per person per community, from events, with a daily cap."""
