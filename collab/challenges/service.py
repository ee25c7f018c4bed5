"""Challenge rules: who sees and takes part, what each phase allows, budgets, scores, decisions.

The phase is never stored: it follows the clock (collab.time) over the challenge's schedule, and
managers move the schedule (advance, extend, close), each move recorded with who and why.
Visibility: the community's (collab.permissions) and, for everyone but the community's staff, the
sponsor and the evaluators, the challenge's audiences; drafts only for staff, sponsor, evaluators.
"""
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from collab import time
from collab.challenges.models import (
    BOUNDARIES,
    PHASES,
    Challenge,
    ChallengeAudience,
    ChallengeBudget,
    ChallengeCriterion,
    ChallengeDecision,
    ChallengeEvaluator,
    ChallengeIdea,
    ChallengePhaseChange,
    ChallengeScore,
    ChallengeVote,
    DecisionKind,
    IdeaOrigin,
    IdeaOutcome,
    Phase,
)
from collab.communities.models import Community, Membership, MembershipStatus
from collab.db import db
from collab.errors import Conflict, Forbidden, InvalidInput, NotFound
from collab.ideas import service as ideas
from collab.pagination import Page, SortKey, paginate
from collab.people.models import Audience, User
from collab.permissions import (
    MODERATOR_ROLES,
    find_visible_community,
    is_moderator,
    visible_communities,
    visible_community_ids,
)
from collab.threads import service as threads
from collab.threads.models import Thread, ThreadKind, ThreadStatus


# Visibility --------------------------------------------------------------------

def _staff_of(user: User):
    return select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE,
        Membership.role.in_(MODERATOR_ROLES))


def visible_challenges(viewer: User, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL condition on Challenge: true where `viewer` may see it (and its counts and report)."""
    in_visible_community = Challenge.community_id.in_(visible_community_ids(viewer))
    if viewer.is_admin:
        return in_visible_community
    now = now or time.now()
    insider = or_(
        Challenge.community_id.in_(_staff_of(viewer)),
        Challenge.sponsor_id == viewer.id,
        Challenge.id.in_(select(ChallengeEvaluator.challenge_id).where(
            ChallengeEvaluator.user_id == viewer.id)),
    )
    participant = and_(
        exists().where(ChallengeAudience.challenge_id == Challenge.id,
                       ChallengeAudience.audience == viewer.audience),
        Challenge.submission_starts_at <= now,  # drafts are not shown to the crowd
    )
    return and_(in_visible_community, or_(insider, participant))


def find_visible_challenge(viewer: User, challenge_id: int) -> Challenge:
    """The challenge `viewer` may see, or 404 exactly as if it did not exist."""
    challenge = db.session.scalar(select(Challenge).where(
        Challenge.id == challenge_id, visible_challenges(viewer)))
    if challenge is None:
        raise NotFound(f"No challenge {challenge_id}.")
    return challenge


def visible_challenge_phases(viewer: User) -> dict[int, str]:
    """Ids of every challenge `viewer` may see with its current phase (search filters and facets)."""
    now = time.now()
    return {c.id: c.phase_at(now) for c in db.session.scalars(
        select(Challenge).where(visible_challenges(viewer, now)))}


def is_manager(user: User, challenge: Challenge) -> bool:
    """The sponsor, and the community's owners, moderators and admins."""
    return challenge.sponsor_id == user.id or is_moderator(user, challenge.community)


def _require_manager(user: User, challenge: Challenge) -> None:
    if not is_manager(user, challenge):
        raise Forbidden("Only the sponsor and the community's moderators may do this.")


def _require_sponsor(user: User, challenge: Challenge) -> None:
    if challenge.sponsor_id != user.id:
        raise Forbidden("Only the challenge's sponsor may do this.")


def _is_evaluator(user: User, challenge: Challenge) -> bool:
    return db.session.scalar(select(ChallengeEvaluator.user_id).where(
        ChallengeEvaluator.challenge_id == challenge.id,
        ChallengeEvaluator.user_id == user.id)) is not None


def can_take_part(user: User, challenge: Challenge) -> bool:
    return user.audience in challenge.audiences


def _require_participant(user: User, challenge: Challenge) -> None:
    """Taking part: an audience the challenge is open to, and the right to write in the community."""
    if not can_take_part(user, challenge):
        raise Forbidden(f"This challenge is open to {', '.join(challenge.audiences)} only.")
    threads.require_contributor(user, challenge.community)


# Phases ------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def schedule(challenge: Challenge) -> list[dict]:
    return [{"phase": phase.value, "starts_at": _iso(start), "ends_at": _iso(end)}
            for phase in PHASES for start, end in [challenge.phase_window(phase)]]


def require_phase(challenge: Challenge, allowed: tuple[Phase, ...], action: str) -> Phase:
    """409 naming the current phase and its dates unless the challenge is in one of `allowed`."""
    phase = challenge.phase_at(time.now())
    if phase in allowed:
        return phase
    starts, ends = challenge.phase_window(phase)
    wanted = " or ".join(p.value for p in allowed)
    window = f"since {_iso(starts)}" if starts else "not yet open"
    if ends:
        window += f", until {_iso(ends)}"
    allowed_windows = [{"phase": p.value, "starts_at": _iso(s), "ends_at": _iso(e)}
                       for p in allowed for s, e in [challenge.phase_window(p)]]
    raise Conflict(
        f"{action} only in the {wanted} phase; the challenge is in its {phase} phase ({window}).",
        errors={"phase": [f"{phase}, not {wanted}"]},
        extensions={"phase": phase.value, "phase_starts_at": _iso(starts), "phase_ends_at": _iso(ends),
               "allowed_phases": allowed_windows})


def _schedule_values(challenge: Challenge) -> dict:
    return {column: _iso(getattr(challenge, column)) for column in BOUNDARIES}


def validate_schedule(values: dict) -> None:
    """Phases follow in order: each start at or after the one before (equal: the phase is skipped)."""
    for earlier, later in zip(BOUNDARIES, BOUNDARIES[1:]):
        if values[later] < values[earlier]:
            raise InvalidInput({later: [f"Must not be before {earlier}."]})


def change_phase(actor: User, challenge_id: int, fields: dict) -> ChallengePhaseChange:
    """advance: the next phase starts now; extend: the current phase ends at `until`, later
    phases shift by as much; close: the challenge is closed now."""
    challenge = find_visible_challenge(actor, challenge_id)
    _require_manager(actor, challenge)
    now = time.now()
    phase = challenge.phase_at(now)
    if phase == Phase.CLOSED:
        raise Conflict("The challenge is closed; its schedule no longer changes.",
                       errors={"action": ["The challenge is closed."]})
    before = _schedule_values(challenge)
    index = PHASES.index(phase)  # the boundary that ends this phase is BOUNDARIES[index]
    action = fields["action"]
    if action == "advance":
        setattr(challenge, BOUNDARIES[index], now)
        for column in BOUNDARIES[index + 1:]:  # nothing may start before the new phase
            setattr(challenge, column, max(getattr(challenge, column), now))
    elif action == "close":
        for column in BOUNDARIES:
            if getattr(challenge, column) > now:
                setattr(challenge, column, now)
    else:
        until = fields.get("until")
        if until is None:
            raise InvalidInput({"until": ["Required to extend a phase."]})
        if until.tzinfo is None:
            raise InvalidInput({"until": ["Give a time zone (e.g. 2026-05-01T12:00:00Z)."]})
        current_end = getattr(challenge, BOUNDARIES[index])
        if until <= current_end:
            raise InvalidInput({"until": [f"Must be after the phase's current end "
                                          f"({_iso(current_end)})."]})
        shift = until - current_end
        for column in BOUNDARIES[index:]:
            setattr(challenge, column, getattr(challenge, column) + shift)
    change = ChallengePhaseChange(
        challenge_id=challenge.id, action=action, from_phase=phase,
        to_phase=challenge.phase_at(now), reason=fields["reason"], schedule_before=before,
        schedule_after=_schedule_values(challenge), actor_id=actor.id, created_at=now)
    challenge.updated_at = now
    db.session.add(change)
    db.session.commit()
    return change


def phase_changes(viewer: User, challenge_id: int) -> list[ChallengePhaseChange]:
    challenge = find_visible_challenge(viewer, challenge_id)
    return list(db.session.scalars(select(ChallengePhaseChange).where(
        ChallengePhaseChange.challenge_id == challenge.id).order_by(ChallengePhaseChange.id)))


# Challenges --------------------------------------------------------------------

@dataclass
class ChallengeView:
    challenge: Challenge
    phase: str
    schedule: list
    counts: dict
    my_role: dict

    def __getattr__(self, name):
        return getattr(self.challenge, name)


def _counts(challenge_ids: list[int]) -> dict[int, dict]:
    counts = {i: {"ideas": 0, "voters": 0, "points": 0} for i in challenge_ids}
    if not challenge_ids:
        return counts
    for challenge_id, ideas_count in db.session.execute(
            select(ChallengeIdea.challenge_id, func.count())
            .join(Thread, Thread.id == ChallengeIdea.thread_id)
            .where(ChallengeIdea.challenge_id.in_(challenge_ids), Thread.deleted_at.is_(None))
            .group_by(ChallengeIdea.challenge_id)):
        counts[challenge_id]["ideas"] = ideas_count
    for challenge_id, voters, points in db.session.execute(
            select(ChallengeVote.challenge_id, func.count(func.distinct(ChallengeVote.user_id)),
                   func.coalesce(func.sum(ChallengeVote.points), 0))
            .where(ChallengeVote.challenge_id.in_(challenge_ids), ChallengeVote.points > 0,
                   _live_idea_votes())
            .group_by(ChallengeVote.challenge_id)):
        counts[challenge_id].update(voters=voters, points=int(points))
    return counts


def _views(viewer: User, challenges: list[Challenge]) -> list[ChallengeView]:
    now = time.now()
    counts = _counts([c.id for c in challenges])
    evaluating = set(db.session.scalars(select(ChallengeEvaluator.challenge_id).where(
        ChallengeEvaluator.user_id == viewer.id,
        ChallengeEvaluator.challenge_id.in_([c.id for c in challenges]))))
    return [ChallengeView(c, c.phase_at(now), schedule(c), counts[c.id], {
        "manager": is_manager(viewer, c), "sponsor": c.sponsor_id == viewer.id,
        "evaluator": c.id in evaluating, "participant": can_take_part(viewer, c)})
        for c in challenges]


def challenge_view(viewer: User, challenge: Challenge) -> ChallengeView:
    return _views(viewer, [challenge])[0]


def _require_visible_user(user_id: int, community: Community, field: str) -> User:
    user = db.session.get(User, user_id)
    if user is None or db.session.scalar(select(Community.id).where(
            Community.id == community.id, visible_communities(user))) is None:
        raise InvalidInput({field: [f"User {user_id} does not exist or cannot see this "
                                    f"community."]})
    return user


def _check_settings(fields: dict, community_audiences: list[str]) -> None:
    audiences = fields["audiences"]
    outside = sorted(set(audiences) - set(community_audiences))
    if outside:
        raise InvalidInput({"audiences": [f"Not open to the community: {', '.join(outside)}."]})
    if not audiences:
        raise InvalidInput({"audiences": ["At least one audience."]})
    unknown = sorted(set(fields["audience_weights"]) - set(audiences))
    if unknown:
        raise InvalidInput({"audience_weights": [f"Not an audience of the challenge: "
                                                 f"{', '.join(unknown)}."]})
    if fields["max_points_per_idea"] > fields["vote_budget"]:
        raise InvalidInput({"max_points_per_idea": ["Must not exceed vote_budget."]})
    for column in BOUNDARIES:
        if fields[column].tzinfo is None:
            raise InvalidInput({column: ["Give a time zone (e.g. 2026-05-01T12:00:00Z)."]})
    validate_schedule(fields)


def create_challenge(actor: User, slug: str, fields: dict) -> ChallengeView:
    """Owners and moderators pose a challenge and name its sponsor (themselves by default)."""
    community = find_visible_community(actor, slug)
    if community.archived:
        raise Forbidden("The community is archived and read-only.")
    if not is_moderator(actor, community):
        raise Forbidden("Only the community's owners and moderators create challenges.")
    fields.setdefault("audiences", community.audiences)
    _check_settings(fields, community.audiences)
    sponsor = _require_visible_user(fields.get("sponsor_id") or actor.id, community, "sponsor_id")
    now = time.now()
    challenge = Challenge(
        community_id=community.id, sponsor_id=sponsor.id, created_by_id=actor.id,
        title=fields["title"], brief=fields["brief"], tags=fields["tags"],
        audience_rows=[ChallengeAudience(audience=a) for a in dict.fromkeys(fields["audiences"])],
        audience_weights={a: float(w) for a, w in fields["audience_weights"].items()},
        vote_budget=fields["vote_budget"], max_points_per_idea=fields["max_points_per_idea"],
        created_at=now, updated_at=now,
        **{column: fields[column] for column in BOUNDARIES})
    db.session.add(challenge)
    db.session.commit()
    return challenge_view(actor, challenge)


def update_challenge(actor: User, challenge_id: int, fields: dict) -> ChallengeView:
    """Wording at any time before closing; the rules of the vote only before voting starts."""
    challenge = find_visible_challenge(actor, challenge_id)
    _require_manager(actor, challenge)
    phase = challenge.phase_at(time.now())
    rules = {"audiences", "audience_weights", "vote_budget", "max_points_per_idea"}
    if rules & fields.keys():
        require_phase(challenge, (Phase.DRAFT, Phase.SUBMISSION), "The rules of the vote change")
    if phase == Phase.CLOSED:
        raise Conflict("The challenge is closed.")
    merged = {"audiences": challenge.audiences, "audience_weights": challenge.audience_weights,
              "vote_budget": challenge.vote_budget,
              "max_points_per_idea": challenge.max_points_per_idea,
              **_schedule_values_raw(challenge), **fields}
    _check_settings(merged, challenge.community.audiences)
    for name in ("title", "brief", "tags", "vote_budget", "max_points_per_idea"):
        if name in fields:
            setattr(challenge, name, fields[name])
    if "audience_weights" in fields:
        challenge.audience_weights = {a: float(w) for a, w in fields["audience_weights"].items()}
    if "audiences" in fields:
        challenge.audience_rows = [ChallengeAudience(audience=a)
                                   for a in dict.fromkeys(fields["audiences"])]
    challenge.updated_at = time.now()
    db.session.commit()
    return challenge_view(actor, challenge)


def _schedule_values_raw(challenge: Challenge) -> dict:
    return {column: getattr(challenge, column) for column in BOUNDARIES}


def get_challenge(viewer: User, challenge_id: int) -> ChallengeView:
    return challenge_view(viewer, find_visible_challenge(viewer, challenge_id))


def phase_condition(phase: str, now: datetime) -> ColumnElement[bool]:
    """SQL: the challenge is in `phase` at `now` (the same rule as Challenge.phase_at)."""
    index = PHASES.index(Phase(phase))
    conditions = []
    if index > 0:
        conditions.append(getattr(Challenge, BOUNDARIES[index - 1]) <= now)
    if index < len(BOUNDARIES):
        conditions.append(getattr(Challenge, BOUNDARIES[index]) > now)
    return and_(*conditions)


def list_challenges(viewer: User, args: dict, slug: str | None = None) -> Page:
    now = time.now()
    statement = select(Challenge).where(visible_challenges(viewer, now))
    community_slug = slug or args.get("community")
    if community_slug:
        community = db.session.scalar(select(Community).where(
            Community.slug == community_slug, visible_communities(viewer)))
        if community is None:
            if slug:
                raise NotFound(f"No community '{slug}'.")
            statement = statement.where(false())
        else:
            statement = statement.where(Challenge.community_id == community.id)
    if args.get("phase"):
        statement = statement.where(phase_condition(args["phase"], now))
    if args.get("sponsor"):
        statement = statement.where(Challenge.sponsor_id == args["sponsor"])
    page = paginate(statement, [SortKey(Challenge.id)], args["limit"], args["cursor"])
    page.items = _views(viewer, page.items)
    return page


# Ideas -------------------------------------------------------------------------

def _link(actor: User, challenge: Challenge, thread: Thread) -> ChallengeIdea:
    now = time.now()
    link = ChallengeIdea(thread_id=thread.id, challenge_id=challenge.id, linked_by_id=actor.id,
                         created_at=now)
    db.session.add(link)
    thread.updated_at = now  # the thread's search document now carries its challenge
    return link


def _challenge_of(thread_id: int) -> int | None:
    return db.session.scalar(select(ChallengeIdea.challenge_id).where(
        ChallengeIdea.thread_id == thread_id))


def create_idea(actor: User, slug: str, fields: dict) -> threads.ThreadView:
    """A new idea thread submitted to a challenge, in one transaction (POST .../threads)."""
    challenge_id = fields.pop("challenge_id")
    community = find_visible_community(actor, slug)
    challenge = db.session.scalar(select(Challenge).where(
        Challenge.id == challenge_id, Challenge.community_id == community.id,
        visible_challenges(actor)))
    if challenge is None:
        raise InvalidInput({"challenge_id": [f"No challenge {challenge_id} in this community."]})
    if fields["kind"] != ThreadKind.IDEA:
        raise InvalidInput({"kind": ["Only ideas are submitted to a challenge."]})
    _require_participant(actor, challenge)
    require_phase(challenge, (Phase.SUBMISSION,), "Ideas are submitted")
    thread = threads.add_thread(actor, community, fields)
    _link(actor, challenge, thread)
    db.session.commit()
    return threads.thread_view(actor, thread)


def attach_idea(actor: User, challenge_id: int, thread_id: int) -> dict:
    """An existing idea joins the challenge (its author or the managers) while submission is open."""
    challenge = find_visible_challenge(actor, challenge_id)
    thread = threads.find_visible_thread(actor, thread_id)
    if thread.community_id != challenge.community_id:
        raise InvalidInput({"thread_id": ["The idea must be in the challenge's community."]})
    if thread.kind != ThreadKind.IDEA:
        raise InvalidInput({"thread_id": [f"Thread {thread.id} is a {thread.kind}, not an idea."]})
    manager = is_manager(actor, challenge)
    if not manager:
        if thread.author_id != actor.id:
            raise Forbidden("Only the idea's author and the challenge's managers attach it.")
        _require_participant(actor, challenge)
    threads.require_not_merged(thread)
    require_phase(challenge, (Phase.SUBMISSION,), "Ideas are submitted")
    existing = _challenge_of(thread.id)
    if existing is not None:
        raise Conflict(f"Thread {thread.id} already takes part in challenge {existing}.",
                       errors={"thread_id": ["Already in a challenge."]})
    _link(actor, challenge, thread)
    db.session.commit()
    return idea_entries(actor, challenge, [thread.id])[0]


def _linked_ideas(challenge: Challenge, thread_ids: list[int] | None = None) -> list[Thread]:
    statement = (select(Thread).join(ChallengeIdea, ChallengeIdea.thread_id == Thread.id)
                 .where(ChallengeIdea.challenge_id == challenge.id, Thread.deleted_at.is_(None))
                 .order_by(Thread.id))
    if thread_ids is not None:
        statement = statement.where(Thread.id.in_(thread_ids))
    return list(db.session.scalars(statement))


def _find_idea(challenge: Challenge, thread_id: int) -> Thread:
    found = _linked_ideas(challenge, [thread_id])
    if not found:
        raise NotFound(f"No idea {thread_id} in challenge {challenge.id}.")
    return found[0]


def _shortlist(challenge: Challenge) -> set[int]:
    return set(db.session.scalars(select(ChallengeIdea.thread_id).where(
        ChallengeIdea.challenge_id == challenge.id, ChallengeIdea.shortlisted.is_(True))))


def vote_results(challenge: Challenge, thread_ids: list[int] | None = None) -> dict[int, dict]:
    """Raw and weighted points per idea, with voters and the split by audience."""
    weights = challenge.audience_weights or {}
    statement = (select(ChallengeVote.thread_id, ChallengeVote.audience,
                        func.sum(ChallengeVote.points), func.count())
                 .where(ChallengeVote.challenge_id == challenge.id, ChallengeVote.points > 0)
                 .group_by(ChallengeVote.thread_id, ChallengeVote.audience))
    if thread_ids is not None:
        statement = statement.where(ChallengeVote.thread_id.in_(thread_ids))
    results: dict[int, dict] = defaultdict(_empty_result)
    for thread_id, audience, points, voters in db.session.execute(statement):
        result = results[thread_id]
        weight = float(weights.get(audience, 1.0))
        result["points"] += int(points)
        result["voters"] += voters
        result["weighted_points"] += int(points) * weight
        result["by_audience"][audience] = {"points": int(points), "voters": voters,
                                           "weight": weight,
                                           "weighted_points": int(points) * weight}
    return results


def _empty_result() -> dict:
    return {"points": 0, "voters": 0, "weighted_points": 0.0,
            "by_audience": {a.value: {"points": 0, "voters": 0, "weight": 1.0,
                                      "weighted_points": 0.0} for a in Audience}}


def _result(challenge: Challenge, results: dict, thread_id: int) -> dict:
    result = results.get(thread_id) or _empty_result()
    for audience, entry in result["by_audience"].items():
        entry["weight"] = float((challenge.audience_weights or {}).get(audience, 1.0))
    return result


def idea_entries(viewer: User, challenge: Challenge, thread_ids: list[int] | None = None) -> list[dict]:
    ideas_ = _linked_ideas(challenge, thread_ids)
    results = vote_results(challenge, [t.id for t in ideas_])
    shortlist = _shortlist(challenge)
    decisions = {d.thread_id: d for d in db.session.scalars(select(ChallengeDecision).where(
        ChallengeDecision.challenge_id == challenge.id))}
    mine = dict(db.session.execute(select(ChallengeVote.thread_id, ChallengeVote.points).where(
        ChallengeVote.challenge_id == challenge.id, ChallengeVote.user_id == viewer.id)).all())
    return [{"thread_id": t.id, "title": t.title, "status": t.status,
             "author": t.author, "votes": _result(challenge, results, t.id),
             "my_points": mine.get(t.id, 0), "shortlisted": t.id in shortlist,
             "decision": decisions.get(t.id)} for t in ideas_]


def list_ideas(viewer: User, challenge_id: int) -> list[dict]:
    challenge = find_visible_challenge(viewer, challenge_id)
    entries = idea_entries(viewer, challenge)
    entries.sort(key=lambda e: (-e["votes"]["weighted_points"], -e["votes"]["points"],
                                e["thread_id"]))
    return entries


# Vote budgets -------------------------------------------------------------------

def _lock_budget(user: User, challenge: Challenge) -> ChallengeBudget:
    """The participant's budget row, created if missing, locked until commit.

    Inserting (or finding) it is the transaction's first write: SQLite takes its write lock there,
    PostgreSQL's FOR UPDATE then serialises this participant's concurrent requests.
    """
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(ChallengeBudget).values(
        challenge_id=challenge.id, user_id=user.id, spent=0, updated_at=time.now())
        .on_conflict_do_nothing(index_elements=["challenge_id", "user_id"]))
    return db.session.scalars(select(ChallengeBudget).where(
        ChallengeBudget.challenge_id == challenge.id, ChallengeBudget.user_id == user.id)
        .with_for_update().execution_options(populate_existing=True)).one()


def _live_idea_votes():
    """Votes on ideas that still exist: points on a deleted idea return to the budget."""
    return ChallengeVote.thread_id.in_(select(Thread.id).where(Thread.deleted_at.is_(None)))


def _spent_elsewhere(user: User, challenge: Challenge, thread_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(ChallengeVote.points), 0)).where(
        ChallengeVote.challenge_id == challenge.id, ChallengeVote.user_id == user.id,
        ChallengeVote.thread_id != thread_id, _live_idea_votes())))


def budget_view(user: User, challenge: Challenge) -> dict:
    allocations = [{"thread_id": thread_id, "points": points}
                   for thread_id, points in db.session.execute(
                       select(ChallengeVote.thread_id, ChallengeVote.points).where(
                           ChallengeVote.challenge_id == challenge.id,
                           ChallengeVote.user_id == user.id, _live_idea_votes())
                       .order_by(ChallengeVote.thread_id))]
    spent = sum(a["points"] for a in allocations)
    return {"challenge_id": challenge.id, "budget": challenge.vote_budget, "spent": spent,
            "left": challenge.vote_budget - spent,
            "max_points_per_idea": challenge.max_points_per_idea, "allocations": allocations}


def my_budget(viewer: User, challenge_id: int) -> dict:
    challenge = find_visible_challenge(viewer, challenge_id)
    return budget_view(viewer, challenge)


def set_points(actor: User, challenge_id: int, thread_id: int, points: int) -> dict:
    """Put `points` on one idea (0 takes them back); points move freely until voting closes."""
    challenge = find_visible_challenge(actor, challenge_id)
    _require_participant(actor, challenge)
    require_phase(challenge, (Phase.VOTING,), "Votes are cast")
    thread = _find_idea(challenge, thread_id)
    if points > challenge.max_points_per_idea:
        raise InvalidInput({"points": [f"At most {challenge.max_points_per_idea} points on "
                                       f"one idea."]})
    if thread.merged_into_id is not None:
        threads.require_not_merged(thread)
    budget = _lock_budget(actor, challenge)
    elsewhere = _spent_elsewhere(actor, challenge, thread.id)
    if elsewhere + points > challenge.vote_budget:
        left = challenge.vote_budget - elsewhere
        raise Conflict(f"Not enough points: {left} left to put here out of "
                       f"{challenge.vote_budget}; take points from another idea first.",
                       errors={"points": [f"At most {left}."]},
                       extensions={"budget": challenge.vote_budget, "spent": elsewhere,
                              "left": challenge.vote_budget - elsewhere})
    now = time.now()
    vote = db.session.scalar(select(ChallengeVote).where(
        ChallengeVote.challenge_id == challenge.id, ChallengeVote.user_id == actor.id,
        ChallengeVote.thread_id == thread.id))
    if points == 0:
        if vote is not None:
            db.session.delete(vote)
    elif vote is None:
        db.session.add(ChallengeVote(challenge_id=challenge.id, thread_id=thread.id,
                                     user_id=actor.id, points=points, audience=actor.audience,
                                     updated_at=now))
    else:
        vote.points, vote.audience, vote.updated_at = points, actor.audience, now
    budget.spent = elsewhere + points
    budget.updated_at = now
    db.session.commit()
    return budget_view(actor, challenge)


def results(viewer: User, challenge_id: int) -> dict:
    challenge = find_visible_challenge(viewer, challenge_id)
    entries = list_ideas(viewer, challenge.id)
    return {"challenge_id": challenge.id, "audience_weights": _weights(challenge),
            "ideas": entries}


def _weights(challenge: Challenge) -> dict:
    return {a: float((challenge.audience_weights or {}).get(a, 1.0)) for a in challenge.audiences}


# Evaluation ----------------------------------------------------------------------

def list_criteria(viewer: User, challenge_id: int) -> list[ChallengeCriterion]:
    return _criteria(find_visible_challenge(viewer, challenge_id))


def _criteria(challenge: Challenge) -> list[ChallengeCriterion]:
    return list(db.session.scalars(select(ChallengeCriterion).where(
        ChallengeCriterion.challenge_id == challenge.id).order_by(ChallengeCriterion.id)))


def set_criteria(actor: User, challenge_id: int, criteria: list[dict]) -> list[ChallengeCriterion]:
    """The whole list of criteria, replaced; fixed once evaluation starts."""
    challenge = find_visible_challenge(actor, challenge_id)
    _require_manager(actor, challenge)
    require_phase(challenge, (Phase.DRAFT, Phase.SUBMISSION, Phase.VOTING), "Criteria change")
    names = [c["name"].lower() for c in criteria]
    if len(set(names)) != len(names):
        raise InvalidInput({"criteria": ["Names must be unique."]})
    for row in _criteria(challenge):
        db.session.delete(row)
    db.session.flush()
    rows = [ChallengeCriterion(challenge_id=challenge.id, **c) for c in criteria]
    db.session.add_all(rows)
    db.session.commit()
    return _criteria(challenge)


def list_evaluators(viewer: User, challenge_id: int) -> list[ChallengeEvaluator]:
    return _evaluators(find_visible_challenge(viewer, challenge_id))


def _evaluators(challenge: Challenge) -> list[ChallengeEvaluator]:
    return list(db.session.scalars(select(ChallengeEvaluator).where(
        ChallengeEvaluator.challenge_id == challenge.id).order_by(ChallengeEvaluator.user_id)))


def set_evaluators(actor: User, challenge_id: int, user_ids: list[int]) -> list[ChallengeEvaluator]:
    """The sponsor names the panel; someone who already scored stays on it."""
    challenge = find_visible_challenge(actor, challenge_id)
    _require_sponsor(actor, challenge)
    require_phase(challenge, (Phase.DRAFT, Phase.SUBMISSION, Phase.VOTING, Phase.EVALUATION),
                  "Evaluators are named")
    wanted = list(dict.fromkeys(user_ids))
    for user_id in wanted:
        _require_visible_user(user_id, challenge.community, "user_ids")
    scored = set(db.session.scalars(select(ChallengeScore.evaluator_id).where(
        ChallengeScore.challenge_id == challenge.id)))
    if scored - set(wanted):
        raise InvalidInput({"user_ids": ["Evaluators who have scored stay on the panel: "
                                         f"{', '.join(map(str, sorted(scored - set(wanted))))}."]})
    current = {e.user_id: e for e in _evaluators(challenge)}
    for user_id, row in current.items():
        if user_id not in wanted:
            db.session.delete(row)
    for user_id in wanted:
        if user_id not in current:
            db.session.add(ChallengeEvaluator(challenge_id=challenge.id, user_id=user_id,
                                              created_at=time.now()))
    db.session.commit()
    return _evaluators(challenge)


def set_shortlist(actor: User, challenge_id: int, thread_ids: list[int]) -> list[dict]:
    """The managers pick the ideas the panel evaluates (after the crowd voted)."""
    challenge = find_visible_challenge(actor, challenge_id)
    _require_manager(actor, challenge)
    require_phase(challenge, (Phase.VOTING, Phase.EVALUATION), "The shortlist changes")
    wanted = set(thread_ids)
    linked = {t.id for t in _linked_ideas(challenge)}
    unknown = sorted(wanted - linked)
    if unknown:
        raise InvalidInput({"thread_ids": [f"Not ideas of this challenge: "
                                           f"{', '.join(map(str, unknown))}."]})
    scored = set(db.session.scalars(select(ChallengeScore.thread_id).where(
        ChallengeScore.challenge_id == challenge.id)))
    if scored - wanted:
        raise InvalidInput({"thread_ids": ["Scored ideas stay on the shortlist: "
                                           f"{', '.join(map(str, sorted(scored - wanted)))}."]})
    for link in db.session.scalars(select(ChallengeIdea).where(
            ChallengeIdea.challenge_id == challenge.id)):
        link.shortlisted = link.thread_id in wanted
    db.session.commit()
    return [e for e in idea_entries(actor, challenge) if e["shortlisted"]]


def submit_scores(actor: User, challenge_id: int, thread_id: int, scores: list[dict]) -> dict:
    """An evaluator's scorecard for one shortlisted idea: every criterion, each with a comment."""
    challenge = find_visible_challenge(actor, challenge_id)
    if not _is_evaluator(actor, challenge):
        raise Forbidden("Only the challenge's evaluators score ideas.")
    require_phase(challenge, (Phase.EVALUATION,), "Scores are given")
    thread = _find_idea(challenge, thread_id)
    if thread.id not in _shortlist(challenge):
        raise Conflict(f"Idea {thread.id} is not on the shortlist.",
                       errors={"thread_id": ["Not shortlisted."]})
    criteria = {c.id: c for c in _criteria(challenge)}
    if not criteria:
        raise Conflict("The challenge has no criteria to score against.")
    given = {s["criterion_id"]: s for s in scores}
    errors = {}
    if len(given) != len(scores):
        errors["scores"] = ["One score per criterion."]
    missing = sorted(set(criteria) - set(given))
    unknown = sorted(set(given) - set(criteria))
    if missing:
        errors.setdefault("scores", []).append(
            f"Missing criteria: {', '.join(criteria[i].name for i in missing)}.")
    if unknown:
        errors.setdefault("scores", []).append(
            f"Not criteria of this challenge: {', '.join(map(str, unknown))}.")
    for criterion_id, score in given.items():
        criterion = criteria.get(criterion_id)
        if criterion and not 1 <= score["value"] <= criterion.scale:
            errors.setdefault("scores", []).append(
                f"{criterion.name}: a value from 1 to {criterion.scale}.")
    if errors:
        raise InvalidInput(errors)
    existing = {s.criterion_id: s for s in db.session.scalars(select(ChallengeScore).where(
        ChallengeScore.challenge_id == challenge.id, ChallengeScore.thread_id == thread.id,
        ChallengeScore.evaluator_id == actor.id))}
    now = time.now()
    for criterion_id, score in given.items():
        row = existing.get(criterion_id)
        if row is None:
            db.session.add(ChallengeScore(
                challenge_id=challenge.id, thread_id=thread.id, evaluator_id=actor.id,
                criterion_id=criterion_id, value=score["value"], comment=score["comment"],
                updated_at=now))
        else:
            row.value, row.comment, row.updated_at = score["value"], score["comment"], now
    db.session.commit()
    return evaluation(actor, challenge.id, [thread.id])["ideas"][0]


def _score_access(viewer: User, challenge: Challenge) -> tuple[str, set[int]]:
    """What `viewer` sees of the scores: all (managers), after own scorecard (evaluators),
    aggregates once evaluation is over (everyone else), or nothing."""
    if is_manager(viewer, challenge):
        return "all", set()
    if _is_evaluator(viewer, challenge):
        return "own-first", set(db.session.scalars(select(ChallengeScore.thread_id).where(
            ChallengeScore.challenge_id == challenge.id,
            ChallengeScore.evaluator_id == viewer.id)))
    if challenge.phase_at(time.now()) in (Phase.DECIDED, Phase.CLOSED):
        return "aggregates", set()
    return "none", set()


def _spread(values: list[float]) -> dict:
    if not values:
        return {"min": None, "max": None, "range": None, "stdev": None}
    return {"min": min(values), "max": max(values), "range": max(values) - min(values),
            "stdev": statistics.pstdev(values)}


def _idea_evaluation(criteria: list[ChallengeCriterion], rows: list[ChallengeScore],
                     access: str, viewer: User, scored_by_viewer: set[int],
                     thread_id: int) -> dict:
    by_evaluator: dict[int, dict[int, ChallengeScore]] = defaultdict(dict)
    for row in rows:
        by_evaluator[row.evaluator_id][row.criterion_id] = row
    own = by_evaluator.get(viewer.id, {})
    entry = {"thread_id": thread_id, "evaluators": len(by_evaluator), "visible": True,
             "my_scores": [{"criterion_id": r.criterion_id, "value": r.value,
                            "comment": r.comment} for r in own.values()]}
    if access == "none" or (access == "own-first" and thread_id not in scored_by_viewer):
        entry.update(visible=False, weighted_mean=None, criteria=[], spread=_spread([]),
                     scorecards=[])
        return entry
    total_weight = sum(c.weight for c in criteria) or 1.0
    criteria_out = []
    for criterion in criteria:
        values = [card[criterion.id].value for card in by_evaluator.values()
                  if criterion.id in card]
        criteria_out.append({"criterion_id": criterion.id, "name": criterion.name,
                             "weight": criterion.weight, "scale": criterion.scale,
                             "mean": statistics.fmean(values) if values else None,
                             **{k: v for k, v in _spread(values).items() if k != "range"}})
    # Each evaluator's weighted score on 0-100 (every criterion to its own scale), so the panel's
    # split shows as the spread of these totals.
    totals = {evaluator: 100 * sum(c.weight * card[c.id].value / c.scale
                                   for c in criteria if c.id in card) / total_weight
              for evaluator, card in by_evaluator.items()}
    entry["weighted_mean"] = statistics.fmean(totals.values()) if totals else None
    entry["criteria"] = criteria_out
    entry["spread"] = _spread(list(totals.values()))
    entry["scorecards"] = [] if access == "aggregates" else [
        {"evaluator_id": evaluator, "weighted_score": totals[evaluator],
         "scores": [{"criterion_id": r.criterion_id, "value": r.value, "comment": r.comment}
                    for r in card.values()]}
        for evaluator, card in sorted(by_evaluator.items())]
    return entry


def evaluation(viewer: User, challenge_id: int, thread_ids: list[int] | None = None) -> dict:
    challenge = find_visible_challenge(viewer, challenge_id)
    access, scored = _score_access(viewer, challenge)
    criteria = _criteria(challenge)
    shortlist = sorted(_shortlist(challenge) if thread_ids is None else thread_ids)
    rows = defaultdict(list)
    for row in db.session.scalars(select(ChallengeScore).where(
            ChallengeScore.challenge_id == challenge.id,
            ChallengeScore.thread_id.in_(shortlist))):
        rows[row.thread_id].append(row)
    return {"challenge_id": challenge.id, "access": access,
            "criteria": criteria,
            "ideas": [_idea_evaluation(criteria, rows[t], access, viewer, scored, t)
                      for t in shortlist]}


# Decisions and outcomes -------------------------------------------------------------

def decide(actor: User, challenge_id: int, thread_id: int, fields: dict) -> ChallengeDecision:
    """The sponsor's decision, with a rationale participants read; the idea's status follows."""
    challenge = find_visible_challenge(actor, challenge_id)
    _require_sponsor(actor, challenge)
    require_phase(challenge, (Phase.DECIDED,), "Decisions are recorded")
    thread = _find_idea(challenge, thread_id)
    threads.require_not_merged(thread)
    threads.lock_thread(thread)
    now = time.now()
    decision = db.session.get(ChallengeDecision, thread.id)
    if decision is None:
        decision = ChallengeDecision(thread_id=thread.id, challenge_id=challenge.id)
        db.session.add(decision)
    decision.decision, decision.rationale = fields["decision"], fields["rationale"]
    decision.decided_by_id, decision.decided_at = actor.id, now
    note = f"Challenge decision ({fields['decision']}): {fields['rationale']}"
    S = ThreadStatus
    if fields["decision"] == DecisionKind.ACCEPTED:
        if thread.status == S.DECLINED:
            ideas.apply_status(actor, thread, S.UNDER_REVIEW, note)
        if thread.status in (S.NEW, S.UNDER_REVIEW):
            ideas.apply_status(actor, thread, S.PLANNED, note)
    elif fields["decision"] == DecisionKind.DECLINED:
        if thread.status not in (S.DONE, S.DECLINED):
            ideas.apply_status(actor, thread, S.DECLINED, note)
    db.session.commit()
    return decision


def list_decisions(viewer: User, challenge_id: int) -> list[ChallengeDecision]:
    challenge = find_visible_challenge(viewer, challenge_id)
    return list(db.session.scalars(select(ChallengeDecision).where(
        ChallengeDecision.challenge_id == challenge.id).order_by(ChallengeDecision.thread_id)))


def record_outcome(actor: User, challenge_id: int, thread_id: int, fields: dict) -> IdeaOutcome:
    """What an accepted idea achieved (sponsor and moderators), once decided."""
    challenge = find_visible_challenge(actor, challenge_id)
    _require_manager(actor, challenge)
    require_phase(challenge, (Phase.DECIDED, Phase.CLOSED), "Outcomes are recorded")
    thread = _find_idea(challenge, thread_id)
    decision = db.session.get(ChallengeDecision, thread.id)
    if decision is None or decision.decision != DecisionKind.ACCEPTED:
        raise Conflict(f"Idea {thread.id} was not accepted; outcomes are for accepted ideas.",
                       errors={"thread_id": ["Not accepted."]})
    outcome = IdeaOutcome(challenge_id=challenge.id, thread_id=thread.id,
                          recorded_by_id=actor.id, created_at=time.now(), **fields)
    db.session.add(outcome)
    db.session.commit()
    return outcome


def _outcomes(thread_ids: list[int]) -> dict[int, list[IdeaOutcome]]:
    outcomes = defaultdict(list)
    if thread_ids:
        for row in db.session.scalars(select(IdeaOutcome).where(
                IdeaOutcome.thread_id.in_(thread_ids)).order_by(IdeaOutcome.id)):
            outcomes[row.thread_id].append(row)
    return outcomes


def list_outcomes(viewer: User, challenge_id: int) -> list[IdeaOutcome]:
    challenge = find_visible_challenge(viewer, challenge_id)
    return list(db.session.scalars(select(IdeaOutcome).where(
        IdeaOutcome.challenge_id == challenge.id).order_by(IdeaOutcome.id)))


# The report and an idea's lineage ------------------------------------------------------

def _participation(challenge: Challenge) -> dict:
    """Distinct people per audience who submitted ideas or voted."""
    submitters = db.session.execute(
        select(User.audience, func.count(func.distinct(Thread.author_id)))
        .join(Thread, Thread.author_id == User.id)
        .join(ChallengeIdea, ChallengeIdea.thread_id == Thread.id)
        .where(ChallengeIdea.challenge_id == challenge.id, Thread.deleted_at.is_(None))
        .group_by(User.audience)).all()
    voters = db.session.execute(
        select(ChallengeVote.audience, func.count(func.distinct(ChallengeVote.user_id)),
               func.sum(ChallengeVote.points))
        .where(ChallengeVote.challenge_id == challenge.id, ChallengeVote.points > 0,
               _live_idea_votes())
        .group_by(ChallengeVote.audience)).all()
    by_audience = {a.value: {"submitters": 0, "voters": 0, "points": 0} for a in Audience}
    for audience, count in submitters:
        by_audience.setdefault(audience, {"submitters": 0, "voters": 0, "points": 0})
        by_audience[audience]["submitters"] = count
    for audience, count, points in voters:
        by_audience.setdefault(audience, {"submitters": 0, "voters": 0, "points": 0})
        by_audience[audience].update(voters=count, points=int(points or 0))
    return {"by_audience": by_audience,
            "submitters": sum(v["submitters"] for v in by_audience.values()),
            "voters": sum(v["voters"] for v in by_audience.values()),
            "points": sum(v["points"] for v in by_audience.values())}


def report(viewer: User, challenge_id: int) -> dict:
    challenge = find_visible_challenge(viewer, challenge_id)
    entries = list_ideas(viewer, challenge.id)
    scores = {e["thread_id"]: e for e in evaluation(viewer, challenge.id)["ideas"]}
    outcomes = _outcomes([e["thread_id"] for e in entries])
    for entry in entries:
        entry["evaluation"] = scores.get(entry["thread_id"])
        entry["outcomes"] = outcomes.get(entry["thread_id"], [])
    return {"challenge": challenge_view(viewer, challenge),
            "participation": _participation(challenge),
            "audience_weights": _weights(challenge),
            "ideas": entries,
            "shortlist": [e["thread_id"] for e in entries if e["shortlisted"]],
            "criteria": _criteria(challenge),
            "decisions": [e["decision"] for e in entries if e["decision"] is not None],
            "outcomes": [o for e in entries for o in e["outcomes"]],
            "phase_changes": list(db.session.scalars(select(ChallengePhaseChange).where(
                ChallengePhaseChange.challenge_id == challenge.id)
                .order_by(ChallengePhaseChange.id)))}


def set_origin(actor: User, thread_id: int, origin_thread_id: int) -> dict:
    """Link the thread or question that inspired an idea (its author or moderators)."""
    thread = threads.find_visible_thread(actor, thread_id)
    moderator = threads.require_can_write(actor, thread)
    if not (moderator or thread.author_id == actor.id):
        raise Forbidden("Only the idea's author and moderators link its origin.")
    if thread.kind != ThreadKind.IDEA:
        raise Conflict(f"Thread {thread.id} is a {thread.kind}, not an idea.")
    if origin_thread_id == thread.id:
        raise InvalidInput({"origin_thread_id": ["An idea is not its own origin."]})
    origin = db.session.scalar(select(Thread).where(
        Thread.id == origin_thread_id, Thread.community_id == thread.community_id,
        Thread.deleted_at.is_(None)))
    if origin is None:
        raise InvalidInput({"origin_thread_id": ["No such thread in this community."]})
    row = db.session.get(IdeaOrigin, thread.id)
    if row is None:
        row = IdeaOrigin(thread_id=thread.id)
        db.session.add(row)
    row.origin_thread_id, row.linked_by_id, row.created_at = origin.id, actor.id, time.now()
    db.session.commit()
    return lineage(actor, thread.id)


def lineage(viewer: User, thread_id: int) -> dict:
    """origin → challenge → votes → scores → decision → status history → outcomes."""
    thread = threads.find_visible_thread(viewer, thread_id)
    origin_row = db.session.get(IdeaOrigin, thread.id)
    origin = None
    if origin_row is not None:
        origin_thread = db.session.scalar(select(Thread).where(
            Thread.id == origin_row.origin_thread_id, Thread.deleted_at.is_(None)))
        if origin_thread is not None:
            origin = {"thread_id": origin_thread.id, "title": origin_thread.title,
                      "kind": origin_thread.kind}
    answer = {"thread_id": thread.id, "title": thread.title, "status": thread.status,
              "origin": origin, "challenge": None, "votes": None, "shortlisted": False,
              "evaluation": None, "decision": None,
              "status_history": threads.status_history(thread), "outcomes": []}
    challenge_id = _challenge_of(thread.id)
    challenge = None if challenge_id is None else db.session.scalar(select(Challenge).where(
        Challenge.id == challenge_id, visible_challenges(viewer)))
    if challenge is None:  # none, or one the viewer may not see: nothing of it is told
        return answer
    entry = idea_entries(viewer, challenge, [thread.id])[0]
    answer.update(
        challenge={"id": challenge.id, "title": challenge.title,
                   "phase": challenge.phase_at(time.now())},
        votes=entry["votes"], shortlisted=entry["shortlisted"], decision=entry["decision"],
        evaluation=(evaluation(viewer, challenge.id, [thread.id])["ideas"][0]
                    if entry["shortlisted"] else None),
        outcomes=_outcomes([thread.id]).get(thread.id, []))
    return answer
