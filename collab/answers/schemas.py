"""Votes on posts in (the post payload out, with its counts, is collab.threads.schemas.PostOut)."""
from collab.ideas.schemas import VoteIn

PostVoteIn = VoteIn  # the same body as an idea vote: {"value": 1 | -1}
