"""Concerns: negative, risky or flagged threads routed to the community's owners and moderators."""
