"""Challenge endpoints: the challenge and its phases, ideas, budget votes, evaluation, decisions."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.challenges import service
from collab.challenges.schemas import (
    AttachIn,
    BudgetOut,
    ChallengeCreate,
    ChallengeListArgs,
    ChallengeOut,
    ChallengeUpdate,
    CommunityChallengeListArgs,
    CriteriaIn,
    CriterionOut,
    DecisionIn,
    DecisionOut,
    EvaluationOut,
    EvaluatorOut,
    EvaluatorsIn,
    IdeaEntry,
    IdeaEvaluation,
    LineageOut,
    OriginIn,
    OutcomeIn,
    OutcomeOut,
    PhaseChangeIn,
    PhaseChangeOut,
    PointsIn,
    ReportOut,
    ResultsOut,
    ScorecardIn,
    ShortlistIn,
)
from collab.schemas import page_schema

blueprint = Blueprint("challenges", __name__,
                      description="Challenges: phases, vote budgets, evaluation, decisions, "
                                  "outcomes")

ChallengePage = page_schema(ChallengeOut, "ChallengePage")

CREATE_EXAMPLE = {
    "title": "Halve partner onboarding",
    "brief": "How could we cut onboarding time for partner engineers by half?",
    "audiences": ["employee", "partner"],
    "tags": ["onboarding"],
    "audience_weights": {"employee": 1, "partner": 2},
    "vote_budget": 10, "max_points_per_idea": 4,
    "submission_starts_at": "2026-05-01T09:00:00Z", "voting_starts_at": "2026-05-15T09:00:00Z",
    "evaluation_starts_at": "2026-05-22T09:00:00Z", "decided_starts_at": "2026-06-01T09:00:00Z",
    "closes_at": "2026-12-31T18:00:00Z",
}
VOTE_OUT_OF_PHASE = {
    "type": "/problems/conflict", "title": "Conflict", "status": 409,
    "detail": "Votes are cast only in the voting phase; the challenge is in its submission phase "
              "(since 2026-05-01T09:00:00+00:00, until 2026-05-15T09:00:00+00:00).",
    "errors": {"phase": ["submission, not voting"]},
    "phase": "submission", "phase_starts_at": "2026-05-01T09:00:00+00:00",
    "phase_ends_at": "2026-05-15T09:00:00+00:00",
    "allowed_phases": [{"phase": "voting", "starts_at": "2026-05-15T09:00:00+00:00",
                        "ends_at": "2026-05-22T09:00:00+00:00"}],
}


@blueprint.post("/communities/<slug>/challenges")
@blueprint.arguments(ChallengeCreate, example=CREATE_EXAMPLE)
@blueprint.response(201, ChallengeOut)
def create_challenge(fields, slug):
    """Pose a challenge (owners and moderators); the sponsor is the caller unless named.

    Phases run draft → submission → voting → evaluation → decided → closed; each date given
    starts a phase and ends the previous one (equal dates skip a phase).
    """
    return service.create_challenge(current_user(), slug, fields)


@blueprint.get("/communities/<slug>/challenges")
@blueprint.arguments(CommunityChallengeListArgs, location="query")
@blueprint.response(200, ChallengePage)
def list_community_challenges(args, slug):
    """The community's challenges the caller may see, newest first; filter by phase, sponsor."""
    return service.list_challenges(current_user(), args, slug=slug)


@blueprint.get("/challenges")
@blueprint.arguments(ChallengeListArgs, location="query")
@blueprint.response(200, ChallengePage)
def list_challenges(args):
    """Every challenge the caller may see; filter by community (slug), phase, sponsor (user id)."""
    return service.list_challenges(current_user(), args)


@blueprint.get("/challenges/<int:challenge_id>")
@blueprint.response(200, ChallengeOut)
def get_challenge(challenge_id):
    """A challenge with its current phase, schedule, counts and the caller's role.

    404 for callers outside its audiences (and, while a draft, for all but its managers).
    """
    return service.get_challenge(current_user(), challenge_id)


@blueprint.patch("/challenges/<int:challenge_id>")
@blueprint.arguments(ChallengeUpdate)
@blueprint.response(200, ChallengeOut)
def update_challenge(fields, challenge_id):
    """Edit (sponsor, moderators); audiences, weights and budget only before voting starts."""
    return service.update_challenge(current_user(), challenge_id, fields)


@blueprint.post("/challenges/<int:challenge_id>/phase")
@blueprint.arguments(PhaseChangeIn, example={"action": "extend",
                                             "until": "2026-05-20T09:00:00Z",
                                             "reason": "Two more days for partners in APAC."})
@blueprint.response(201, PhaseChangeOut)
def change_phase(fields, challenge_id):
    """Advance, extend or close early (sponsor, moderators); recorded with who, why and when."""
    return service.change_phase(current_user(), challenge_id, fields)


@blueprint.get("/challenges/<int:challenge_id>/phase-changes")
@blueprint.response(200, PhaseChangeOut(many=True))
def list_phase_changes(challenge_id):
    """The schedule's manual changes, oldest first."""
    return service.phase_changes(current_user(), challenge_id)


@blueprint.get("/challenges/<int:challenge_id>/ideas")
@blueprint.response(200, IdeaEntry(many=True))
def list_ideas(challenge_id):
    """The challenge's ideas, by weighted then raw points, with the caller's points on each."""
    return service.list_ideas(current_user(), challenge_id)


@blueprint.post("/challenges/<int:challenge_id>/ideas")
@blueprint.arguments(AttachIn, example={"thread_id": 42})
@blueprint.response(201, IdeaEntry)
def attach_idea(fields, challenge_id):
    """Attach an existing idea (its author, or managers) while submission is open.

    New ideas: `POST /communities/{slug}/threads` with `kind: idea` and `challenge_id`.
    """
    return service.attach_idea(current_user(), challenge_id, fields["thread_id"])


@blueprint.get("/challenges/<int:challenge_id>/budget")
@blueprint.response(200, BudgetOut)
def my_budget(challenge_id):
    """The caller's budget: total, spent, left, and where the points are."""
    return service.my_budget(current_user(), challenge_id)


@blueprint.put("/challenges/<int:challenge_id>/votes/<int:thread_id>")
@blueprint.arguments(PointsIn, example={"points": 3})
@blueprint.response(200, BudgetOut)
@blueprint.alt_response(409, description="Outside the voting phase (the problem names the phase "
                                         "and its dates), or over budget",
                        example=VOTE_OUT_OF_PHASE)
def set_points(fields, challenge_id, thread_id):
    """Put points on an idea (participants, voting phase only); 0 takes them back.

    At most `max_points_per_idea` on one idea (422) and `vote_budget` in all (409 with `left`).
    """
    return service.set_points(current_user(), challenge_id, thread_id, fields["points"])


@blueprint.get("/challenges/<int:challenge_id>/results")
@blueprint.response(200, ResultsOut)
def results(challenge_id):
    """Points, voters and the split by audience per idea: raw and weighted, side by side."""
    return service.results(current_user(), challenge_id)


@blueprint.get("/challenges/<int:challenge_id>/criteria")
@blueprint.response(200, CriterionOut(many=True))
def list_criteria(challenge_id):
    """The evaluation criteria."""
    return service.list_criteria(current_user(), challenge_id)


@blueprint.put("/challenges/<int:challenge_id>/criteria")
@blueprint.arguments(CriteriaIn, example={"criteria": [
    {"name": "Impact", "description": "Hours saved per partner engineer", "weight": 2, "scale": 5},
    {"name": "Effort", "description": "Cheap to build scores high", "weight": 1, "scale": 5}]})
@blueprint.response(200, CriterionOut(many=True))
def set_criteria(fields, challenge_id):
    """Replace the criteria (sponsor, moderators) before evaluation starts."""
    return service.set_criteria(current_user(), challenge_id, fields["criteria"])


@blueprint.get("/challenges/<int:challenge_id>/evaluators")
@blueprint.response(200, EvaluatorOut(many=True))
def list_evaluators(challenge_id):
    """The panel."""
    return service.list_evaluators(current_user(), challenge_id)


@blueprint.put("/challenges/<int:challenge_id>/evaluators")
@blueprint.arguments(EvaluatorsIn, example={"user_ids": [7, 9]})
@blueprint.response(200, EvaluatorOut(many=True))
def set_evaluators(fields, challenge_id):
    """Name the panel (the sponsor), until evaluation ends."""
    return service.set_evaluators(current_user(), challenge_id, fields["user_ids"])


@blueprint.put("/challenges/<int:challenge_id>/shortlist")
@blueprint.arguments(ShortlistIn, example={"thread_ids": [42, 57]})
@blueprint.response(200, IdeaEntry(many=True))
def set_shortlist(fields, challenge_id):
    """Replace the shortlist the panel scores (sponsor, moderators), in voting or evaluation."""
    return service.set_shortlist(current_user(), challenge_id, fields["thread_ids"])


@blueprint.put("/challenges/<int:challenge_id>/ideas/<int:thread_id>/scores")
@blueprint.arguments(ScorecardIn, example={"scores": [
    {"criterion_id": 1, "value": 4, "comment": "Saves a day per engineer."},
    {"criterion_id": 2, "value": 2, "comment": "Needs a new sandbox."}]})
@blueprint.response(200, IdeaEvaluation)
def submit_scores(fields, challenge_id, thread_id):
    """An evaluator's scorecard for a shortlisted idea (evaluation phase): every criterion,
    each with a comment. Afterwards the evaluator sees the others' scores of this idea."""
    return service.submit_scores(current_user(), challenge_id, thread_id, fields["scores"])


@blueprint.get("/challenges/<int:challenge_id>/evaluation")
@blueprint.response(200, EvaluationOut)
def evaluation(challenge_id):
    """Weighted mean, each criterion's mean and the spread between evaluators per shortlisted idea.

    Managers see everything; an evaluator sees an idea's scores once they scored it themselves;
    participants see the aggregates once evaluation is over.
    """
    return service.evaluation(current_user(), challenge_id)


@blueprint.put("/challenges/<int:challenge_id>/ideas/<int:thread_id>/decision")
@blueprint.arguments(DecisionIn, example={"decision": "accepted",
                                          "rationale": "Highest impact for partners; we staff it "
                                                       "in Q3."})
@blueprint.response(200, DecisionOut)
def decide(fields, challenge_id, thread_id):
    """The sponsor's decision (decided phase). Accepted ideas become `planned`, declined ones
    `declined`, in the idea's status history; parked ones keep their status."""
    return service.decide(current_user(), challenge_id, thread_id, fields)


@blueprint.get("/challenges/<int:challenge_id>/decisions")
@blueprint.response(200, DecisionOut(many=True))
def list_decisions(challenge_id):
    """Decisions with their rationale, readable by every participant."""
    return service.list_decisions(current_user(), challenge_id)


@blueprint.post("/challenges/<int:challenge_id>/ideas/<int:thread_id>/outcomes")
@blueprint.arguments(OutcomeIn, example={"metric": "Median onboarding days", "baseline": 10,
                                         "target": 5, "measured": 6,
                                         "measured_on": "2026-11-30",
                                         "note": "After the first two cohorts."})
@blueprint.response(201, OutcomeOut)
def record_outcome(fields, challenge_id, thread_id):
    """Record what an accepted idea achieved (sponsor, moderators), once decided."""
    return service.record_outcome(current_user(), challenge_id, thread_id, fields)


@blueprint.get("/challenges/<int:challenge_id>/outcomes")
@blueprint.response(200, OutcomeOut(many=True))
def list_outcomes(challenge_id):
    """Outcomes of the challenge's accepted ideas, oldest first."""
    return service.list_outcomes(current_user(), challenge_id)


@blueprint.get("/challenges/<int:challenge_id>/report")
@blueprint.response(200, ReportOut)
def report(challenge_id):
    """The whole trace: participation by audience, ideas, votes, shortlist, scores, decisions,
    outcomes and the schedule's changes (scores as the caller may see them)."""
    return service.report(current_user(), challenge_id)


@blueprint.get("/threads/<int:thread_id>/lineage")
@blueprint.response(200, LineageOut)
def lineage(thread_id):
    """An idea's trace: origin → challenge → votes → scores → decision → status history →
    outcomes (challenge parts only when the caller may see the challenge)."""
    return service.lineage(current_user(), thread_id)


@blueprint.put("/threads/<int:thread_id>/origin")
@blueprint.arguments(OriginIn, example={"origin_thread_id": 12})
@blueprint.response(200, LineageOut)
def set_origin(fields, thread_id):
    """Link the thread or question (same community) that inspired this idea (author, moderators)."""
    return service.set_origin(current_user(), thread_id, fields["origin_thread_id"])
