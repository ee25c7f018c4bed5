"""Votes on posts: answers ranked by the people who read them."""
