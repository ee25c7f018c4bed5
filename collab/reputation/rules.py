"""The reputation rules, as data, in one place: points per event and the daily cap."""

POINTS = {
    "accepted_answer": 15,    # an answer of theirs is accepted (dated by the answer)
    "upvote_received": 5,     # an up-vote from someone else on a thread they started
    "idea_done": 25,          # an idea they started reaches `done`
    "concern_resolved": 10,   # a concern assigned to them is resolved
}
DAILY_CAP = 100  # points per person, community and day (UTC); the rest of that day is lost
