"""Digest: what a weekly email about a community would say; integrators build the email."""
