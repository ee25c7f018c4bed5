"""People: users, their audience and organization, and API tokens."""
