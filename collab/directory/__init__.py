"""The user directory for integrators and admins: list, search, look up, administer, deactivate."""
