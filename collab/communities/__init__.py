"""Purpose-driven communities and their memberships."""
