"""Challenges in and out."""
from marshmallow import Schema, fields, validate

from collab.challenges.models import DecisionKind, Phase
from collab.people.schemas import AUDIENCE, UserRef
from collab.schemas import MAX_ID, Id, PageArgs, StrictSchema
from collab.threads.schemas import BODY, StatusChangeOut, Tags, Trimmed

PHASE = validate.OneOf([p.value for p in Phase])
AUDIENCE_WEIGHT = fields.Float(validate=validate.Range(0, 100, min_inclusive=False))

BOUNDARY_DESCRIPTIONS = {
    "submission_starts_at": "End of the draft; ideas are submitted from here.",
    "voting_starts_at": "End of submission; budget votes from here.",
    "evaluation_starts_at": "End of voting; evaluators score the shortlist from here.",
    "decided_starts_at": "End of evaluation; the sponsor records decisions from here.",
    "closes_at": "End of the decided phase; closed afterwards (outcomes still recorded).",
}


def _boundary(required: bool, name: str) -> fields.AwareDateTime:
    return fields.AwareDateTime(required=required, format="iso",
                                metadata={"description": BOUNDARY_DESCRIPTIONS[name]})


class ChallengeCreate(StrictSchema):
    title = Trimmed(required=True, validate=validate.Length(1, 200))
    brief = fields.String(required=True, validate=BODY,
                          metadata={"description": "The question posed to the crowd (Markdown)."})
    sponsor_id = Id(metadata={"description": "The user who decides; the caller by default."})
    audiences = fields.List(fields.String(validate=AUDIENCE),
                            metadata={"description": "Who takes part (and sees it): a subset of "
                                                     "the community's audiences; all by default."})
    tags = Tags(load_default=list)
    audience_weights = fields.Dict(keys=fields.String(validate=AUDIENCE), values=AUDIENCE_WEIGHT,
                                   load_default=dict,
                                   metadata={"description": "Declared up front: each audience's "
                                                            "points count this much in the "
                                                            "weighted result (1 by default)."})
    vote_budget = fields.Integer(load_default=10, validate=validate.Range(1, 1000))
    max_points_per_idea = fields.Integer(load_default=3, validate=validate.Range(1, 1000))
    submission_starts_at = _boundary(True, "submission_starts_at")
    voting_starts_at = _boundary(True, "voting_starts_at")
    evaluation_starts_at = _boundary(True, "evaluation_starts_at")
    decided_starts_at = _boundary(True, "decided_starts_at")
    closes_at = _boundary(True, "closes_at")


class ChallengeUpdate(StrictSchema):
    title = Trimmed(validate=validate.Length(1, 200))
    brief = fields.String(validate=BODY)
    tags = Tags()
    audiences = fields.List(fields.String(validate=AUDIENCE), validate=validate.Length(min=1))
    audience_weights = fields.Dict(keys=fields.String(validate=AUDIENCE), values=AUDIENCE_WEIGHT)
    vote_budget = fields.Integer(validate=validate.Range(1, 1000))
    max_points_per_idea = fields.Integer(validate=validate.Range(1, 1000))


class ChallengeListArgs(PageArgs):
    community = fields.String(validate=validate.Length(1, 64), metadata={"description": "slug"})
    phase = fields.String(validate=PHASE)
    sponsor = fields.Integer(validate=validate.Range(1, MAX_ID),
                             metadata={"description": "The sponsor's user id."})


class CommunityChallengeListArgs(PageArgs):
    phase = fields.String(validate=PHASE)
    sponsor = fields.Integer(validate=validate.Range(1, MAX_ID))


class PhaseWindow(Schema):
    phase = fields.String()
    starts_at = fields.String(allow_none=True)
    ends_at = fields.String(allow_none=True)


class ChallengeCounts(Schema):
    ideas = fields.Integer()
    voters = fields.Integer()
    points = fields.Integer()


class MyRole(Schema):
    manager = fields.Boolean(metadata={"description": "sponsor, community moderator or admin"})
    sponsor = fields.Boolean()
    evaluator = fields.Boolean()
    participant = fields.Boolean(metadata={"description": "the caller's audience takes part"})


class ChallengeOut(Schema):
    id = fields.Integer()
    community = fields.String(attribute="community.slug")
    title = fields.String()
    brief = fields.String()
    sponsor = fields.Nested(UserRef)
    audiences = fields.List(fields.String())
    tags = fields.List(fields.String())
    audience_weights = fields.Dict(keys=fields.String(), values=fields.Float())
    vote_budget = fields.Integer()
    max_points_per_idea = fields.Integer()
    phase = fields.String(metadata={"description": "Follows the clock over the schedule."})
    schedule = fields.List(fields.Nested(PhaseWindow))
    counts = fields.Nested(ChallengeCounts)
    my_role = fields.Nested(MyRole)
    submission_starts_at = fields.DateTime()
    voting_starts_at = fields.DateTime()
    evaluation_starts_at = fields.DateTime()
    decided_starts_at = fields.DateTime()
    closes_at = fields.DateTime()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PhaseChangeIn(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(["advance", "extend", "close"]),
                           metadata={"description": "advance: the next phase starts now; extend: "
                                                    "the current phase ends at `until` (later "
                                                    "phases shift as much); close: closed now."})
    until = fields.AwareDateTime(format="iso", metadata={"description": "For extend."})
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class PhaseChangeOut(Schema):
    id = fields.Integer()
    action = fields.String()
    from_phase = fields.String()
    to_phase = fields.String()
    reason = fields.String()
    schedule_before = fields.Dict()
    schedule_after = fields.Dict()
    actor = fields.Nested(UserRef)
    created_at = fields.DateTime()


class AttachIn(StrictSchema):
    thread_id = Id(required=True, metadata={"description": "An idea of the same community."})


class PointsIn(StrictSchema):
    points = fields.Integer(required=True, strict=True, validate=validate.Range(0, 1000),
                            metadata={"description": "Points on this idea (0 takes them back)."})


class Allocation(Schema):
    thread_id = fields.Integer()
    points = fields.Integer()


class BudgetOut(Schema):
    challenge_id = fields.Integer()
    budget = fields.Integer()
    spent = fields.Integer()
    left = fields.Integer()
    max_points_per_idea = fields.Integer()
    allocations = fields.List(fields.Nested(Allocation))


class AudienceResult(Schema):
    points = fields.Integer()
    voters = fields.Integer()
    weight = fields.Float()
    weighted_points = fields.Float()


class VoteResult(Schema):
    points = fields.Integer(metadata={"description": "raw points"})
    voters = fields.Integer()
    weighted_points = fields.Float(metadata={"description": "Σ points × audience weight"})
    by_audience = fields.Dict(keys=fields.String(), values=fields.Nested(AudienceResult))


class DecisionIn(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf([d.value for d in DecisionKind]))
    rationale = fields.String(required=True, validate=validate.Length(1, 10000),
                              metadata={"description": "Readable by every participant."})


class DecisionOut(Schema):
    thread_id = fields.Integer()
    challenge_id = fields.Integer()
    decision = fields.String()
    rationale = fields.String()
    decided_by = fields.Nested(UserRef)
    decided_at = fields.DateTime()


class IdeaEntry(Schema):
    thread_id = fields.Integer()
    title = fields.String()
    status = fields.String()
    author = fields.Nested(UserRef)
    votes = fields.Nested(VoteResult)
    my_points = fields.Integer()
    shortlisted = fields.Boolean()
    decision = fields.Nested(DecisionOut, allow_none=True)


class ResultsOut(Schema):
    challenge_id = fields.Integer()
    audience_weights = fields.Dict(keys=fields.String(), values=fields.Float())
    ideas = fields.List(fields.Nested(IdeaEntry))


class CriterionIn(StrictSchema):
    name = Trimmed(required=True, validate=validate.Length(1, 80))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    weight = fields.Float(load_default=1.0, validate=validate.Range(0, 100, min_inclusive=False))
    scale = fields.Integer(load_default=5, strict=True, validate=validate.Range(2, 100),
                           metadata={"description": "Scores run from 1 to scale."})


class CriteriaIn(StrictSchema):
    criteria = fields.List(fields.Nested(CriterionIn), required=True,
                           validate=validate.Length(max=20))


class CriterionOut(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    weight = fields.Float()
    scale = fields.Integer()


class EvaluatorsIn(StrictSchema):
    user_ids = fields.List(Id(), required=True, validate=validate.Length(max=50))


class EvaluatorOut(Schema):
    user = fields.Nested(UserRef)
    created_at = fields.DateTime()


class ShortlistIn(StrictSchema):
    thread_ids = fields.List(Id(), required=True, validate=validate.Length(max=200))


class ScoreIn(StrictSchema):
    criterion_id = Id(required=True)
    value = fields.Integer(required=True, strict=True)
    comment = fields.String(required=True, validate=validate.Length(1, 5000))


class ScorecardIn(StrictSchema):
    scores = fields.List(fields.Nested(ScoreIn), required=True, validate=validate.Length(1, 20))


class ScoreOut(Schema):
    criterion_id = fields.Integer()
    value = fields.Integer()
    comment = fields.String()


class Spread(Schema):
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    range = fields.Float(allow_none=True)
    stdev = fields.Float(allow_none=True, metadata={"description": "population standard deviation"})


class CriterionResult(Schema):
    criterion_id = fields.Integer()
    name = fields.String()
    weight = fields.Float()
    scale = fields.Integer()
    mean = fields.Float(allow_none=True)
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    stdev = fields.Float(allow_none=True)


class Scorecard(Schema):
    evaluator_id = fields.Integer()
    weighted_score = fields.Float(metadata={"description": "0-100"})
    scores = fields.List(fields.Nested(ScoreOut))


class IdeaEvaluation(Schema):
    thread_id = fields.Integer()
    visible = fields.Boolean(metadata={"description": "false: submit your own scorecard first "
                                                      "(evaluators), or wait for the end of "
                                                      "evaluation (participants)"})
    evaluators = fields.Integer(metadata={"description": "how many have scored"})
    weighted_mean = fields.Float(allow_none=True, metadata={"description": "0-100"})
    criteria = fields.List(fields.Nested(CriterionResult))
    spread = fields.Nested(Spread, metadata={"description": "of the evaluators' weighted scores"})
    scorecards = fields.List(fields.Nested(Scorecard))
    my_scores = fields.List(fields.Nested(ScoreOut))


class EvaluationOut(Schema):
    challenge_id = fields.Integer()
    access = fields.String(metadata={"description": "all, own-first, aggregates or none"})
    criteria = fields.List(fields.Nested(CriterionOut))
    ideas = fields.List(fields.Nested(IdeaEvaluation))


class OutcomeIn(StrictSchema):
    metric = Trimmed(required=True, validate=validate.Length(1, 200))
    baseline = fields.Float(required=True, allow_nan=False)
    target = fields.Float(required=True, allow_nan=False)
    measured = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    measured_on = fields.Date(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=5000))


class OutcomeOut(Schema):
    id = fields.Integer()
    thread_id = fields.Integer()
    challenge_id = fields.Integer()
    metric = fields.String()
    baseline = fields.Float()
    target = fields.Float()
    measured = fields.Float(allow_none=True)
    measured_on = fields.Date(allow_none=True)
    note = fields.String()
    recorded_by = fields.Nested(UserRef)
    created_at = fields.DateTime()


class ReportIdea(IdeaEntry):
    evaluation = fields.Nested(IdeaEvaluation, allow_none=True)
    outcomes = fields.List(fields.Nested(OutcomeOut))


class AudienceParticipation(Schema):
    submitters = fields.Integer()
    voters = fields.Integer()
    points = fields.Integer()


class Participation(Schema):
    by_audience = fields.Dict(keys=fields.String(), values=fields.Nested(AudienceParticipation))
    submitters = fields.Integer()
    voters = fields.Integer()
    points = fields.Integer()


class ReportOut(Schema):
    challenge = fields.Nested(ChallengeOut)
    participation = fields.Nested(Participation)
    audience_weights = fields.Dict(keys=fields.String(), values=fields.Float())
    ideas = fields.List(fields.Nested(ReportIdea))
    shortlist = fields.List(fields.Integer())
    criteria = fields.List(fields.Nested(CriterionOut))
    decisions = fields.List(fields.Nested(DecisionOut))
    outcomes = fields.List(fields.Nested(OutcomeOut))
    phase_changes = fields.List(fields.Nested(PhaseChangeOut))


class OriginIn(StrictSchema):
    origin_thread_id = Id(required=True,
                          metadata={"description": "A thread or question of the same community."})


class OriginOut(Schema):
    thread_id = fields.Integer()
    title = fields.String()
    kind = fields.String()


class LineageChallenge(Schema):
    id = fields.Integer()
    title = fields.String()
    phase = fields.String()


class LineageOut(Schema):
    thread_id = fields.Integer()
    title = fields.String()
    status = fields.String()
    origin = fields.Nested(OriginOut, allow_none=True)
    challenge = fields.Nested(LineageChallenge, allow_none=True)
    votes = fields.Nested(VoteResult, allow_none=True)
    shortlisted = fields.Boolean()
    evaluation = fields.Nested(IdeaEvaluation, allow_none=True)
    decision = fields.Nested(DecisionOut, allow_none=True)
    status_history = fields.List(fields.Nested(StatusChangeOut))
    outcomes = fields.List(fields.Nested(OutcomeOut))
