"""Challenges, their phases, the ideas linked to them, budget votes, scores, decisions, outcomes."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collab import time
from collab.communities.models import Community
from collab.db import UTCDateTime, db
from collab.people.models import User


class Phase(StrEnum):
    DRAFT = "draft"
    SUBMISSION = "submission"
    VOTING = "voting"
    EVALUATION = "evaluation"
    DECIDED = "decided"
    CLOSED = "closed"


PHASES = list(Phase)
# The column holding the instant each phase (after draft) starts; a phase ends when the next starts.
BOUNDARIES = ("submission_starts_at", "voting_starts_at", "evaluation_starts_at",
              "decided_starts_at", "closes_at")


class DecisionKind(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    PARKED = "parked"


class Challenge(db.Model):
    __tablename__ = "challenges"
    __table_args__ = (
        Index("ix_challenges_community", "community_id", "id"),
        Index("ix_challenges_sponsor", "sponsor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    brief: Mapped[str] = mapped_column(Text)
    # Tags and weights are read whole; audiences have rows, as the permission query filters on them.
    tags: Mapped[list] = mapped_column(JSON)
    audience_weights: Mapped[dict] = mapped_column(JSON)
    vote_budget: Mapped[int] = mapped_column(Integer, default=10)
    max_points_per_idea: Mapped[int] = mapped_column(Integer, default=3)
    submission_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voting_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    evaluation_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)

    community: Mapped[Community] = relationship(lazy="joined")
    sponsor: Mapped[User] = relationship(foreign_keys=[sponsor_id], lazy="joined")
    audience_rows: Mapped[list["ChallengeAudience"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ChallengeAudience.audience")

    @property
    def audiences(self) -> list[str]:
        return [row.audience for row in self.audience_rows]

    def phase_at(self, instant: datetime) -> Phase:
        """The phase at `instant`: the last one whose start has passed (draft before all)."""
        current = Phase.DRAFT
        for phase, column in zip(PHASES[1:], BOUNDARIES):
            if getattr(self, column) <= instant:
                current = phase
        return current

    def phase_window(self, phase: Phase) -> tuple[datetime | None, datetime | None]:
        """When `phase` starts and ends (None: open-ended)."""
        index = PHASES.index(phase)
        starts = None if index == 0 else getattr(self, BOUNDARIES[index - 1])
        ends = getattr(self, BOUNDARIES[index]) if index < len(BOUNDARIES) else None
        return starts, ends


class ChallengeAudience(db.Model):
    """The audiences that may take part (a subset of the community's); others do not see it."""

    __tablename__ = "challenge_audiences"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"),
                                              primary_key=True)
    audience: Mapped[str] = mapped_column(String(16), primary_key=True)


class ChallengePhaseChange(db.Model):
    """Every manual change of the schedule: who, why, when, and the schedule before and after."""

    __tablename__ = "challenge_phase_changes"
    __table_args__ = (Index("ix_challenge_phase_changes_challenge", "challenge_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))  # advance, extend, close
    from_phase: Mapped[str] = mapped_column(String(16))
    to_phase: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    schedule_before: Mapped[dict] = mapped_column(JSON)
    schedule_after: Mapped[dict] = mapped_column(JSON)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)

    actor: Mapped[User] = relationship(lazy="joined")


class ChallengeIdea(db.Model):
    """An idea thread taking part in a challenge (an idea takes part in at most one)."""

    __tablename__ = "challenge_ideas"
    __table_args__ = (Index("ix_challenge_ideas_challenge", "challenge_id", "thread_id"),)

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"),
                                           primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    shortlisted: Mapped[bool] = mapped_column(Boolean, default=False)
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)


class IdeaOrigin(db.Model):
    """The thread or question that inspired an idea."""

    __tablename__ = "idea_origins"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"),
                                           primary_key=True)
    origin_thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"),
                                                  index=True)
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)


class ChallengeBudget(db.Model):
    """One row per participant and challenge: locked before points move, so nobody overspends."""

    __tablename__ = "challenge_budgets"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    spent: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)


class ChallengeVote(db.Model):
    """Points a participant put on one idea of a challenge."""

    __tablename__ = "challenge_votes"
    __table_args__ = (
        UniqueConstraint("challenge_id", "user_id", "thread_id"),
        Index("ix_challenge_votes_challenge_thread", "challenge_id", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(Integer)
    # The voter's audience when voting, so results split by audience without a join.
    audience: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)


class ChallengeCriterion(db.Model):
    __tablename__ = "challenge_criteria"
    __table_args__ = (UniqueConstraint("challenge_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(Float)
    scale: Mapped[int] = mapped_column(Integer)  # scores run from 1 to scale


class ChallengeEvaluator(db.Model):
    __tablename__ = "challenge_evaluators"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"),
                                              primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)

    user: Mapped[User] = relationship(lazy="joined")


class ChallengeScore(db.Model):
    """One evaluator's score of one shortlisted idea on one criterion."""

    __tablename__ = "challenge_scores"
    __table_args__ = (
        UniqueConstraint("challenge_id", "thread_id", "evaluator_id", "criterion_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_criteria.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)


class ChallengeDecision(db.Model):
    __tablename__ = "challenge_decisions"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"),
                                           primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"),
                                              index=True)
    decision: Mapped[str] = mapped_column(String(16))
    rationale: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)

    decided_by: Mapped[User] = relationship(lazy="joined")


class IdeaOutcome(db.Model):
    """What an accepted idea achieved: a metric against its baseline and target."""

    __tablename__ = "idea_outcomes"
    __table_args__ = (Index("ix_idea_outcomes_thread", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"),
                                              index=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(200))
    baseline: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    measured: Mapped[float | None] = mapped_column(Float)
    measured_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)

    recorded_by: Mapped[User] = relationship(lazy="joined")
