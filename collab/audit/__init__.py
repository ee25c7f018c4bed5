"""Audit: an append-only record of who changed what, written in the same transaction as the change."""
