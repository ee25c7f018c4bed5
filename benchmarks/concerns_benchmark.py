"""Concern classifier quality on a small hand-written labelled set, and the queue's response times.

    python benchmarks/concerns_benchmark.py [--database URL]

The labelled set below was written by hand for this benchmark (no package ships one): 60 short
posts in the voices of employees, partners and customers, varied on purpose — complaints with and
without angry words, risk reports in a calm tone, sarcasm, negative words in neutral technical
posts ("kill the process", "error"), praise, plain questions. Label 1 = a concern that owners
should see. Prints precision, recall and F1 at collab.concerns.classifier.THRESHOLD, and the
misclassified examples.

Queue figures: time-to-acknowledge and time-to-resolve (p50, p90, count) over the concerns of
--database (default: a temporary SQLite database loaded with `seed demo`, whose figures reflect
the demo's scripted timings, not real moderators).
"""
import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collab.concerns import classifier  # noqa: E402

LABELLED = [
    # concerns (1)
    (1, "This is the third outage this month and nobody from support has called us back."),
    (1, "We are very disappointed: the invoice doubled without any warning."),
    (1, "Our customer data showed up in another tenant's export. This is a serious breach."),
    (1, "I have been waiting six weeks for an answer on my expense claim. No response at all."),
    (1, "If the SLA is missed again we will have to cancel our contract."),
    (1, "The new shift rota is making people burn out, two colleagues already resigned."),
    (1, "The forklift in hall 3 has no working brake light, someone will get hurt."),
    (1, "Frankly the migration was a disaster and we lost a day of orders."),
    (1, "Sync is still broken after the patch, our field team cannot work."),
    (1, "Your API changed without notice and broke our integration in production. Unacceptable."),
    (1, "I feel ignored in these meetings, my proposals are dismissed without discussion."),
    (1, "A manager keeps making comments about my accent. I don't know who to talk to."),
    (1, "We were charged twice and still have no refund after a month."),
    (1, "The password reset emails contain the plain password, that can't be compliant."),
    (1, "Performance is terrible since the upgrade, pages take 20 seconds to load."),
    (1, "Honestly we are thinking of moving to a competitor, the product hasn't improved in a year."),
    (1, "The contract says data stays in the EU but the logs are stored in the US. GDPR problem?"),
    (1, "Our team is exhausted, we have worked every weekend this quarter."),
    (1, "Great, another release that deletes my saved filters. Thanks a lot."),
    (1, "Nobody answers the partner hotline anymore, we had to escalate to our account manager."),
    (1, "The badge reader lets anyone into the server room, the door doesn't lock."),
    (1, "We missed the regulatory deadline because the report export failed."),
    (1, "I'm frustrated that bugs we reported in March are still open."),
    (1, "Customers are complaining that the mobile app crashes on login."),
    (1, "The new pricing is unfair for small teams and we will not renew."),
    (1, "Someone shared the salary spreadsheet in a public channel."),
    (1, "The support agent was rude and hung up on me."),
    (1, "Our data was lost when the sync conflicted, weeks of work gone."),
    (1, "It's embarrassing to demo this to customers, it fails half the time."),
    (1, "Why does every update break the SSO configuration? This is costing us money."),
    # not concerns (0)
    (0, "How do I export the quarterly report to CSV?"),
    (0, "Thanks to the platform team, the new dashboard is fantastic!"),
    (0, "To stop the worker, kill the process and restart the service."),
    (0, "The error code 503 means the upstream is unavailable; retry after a minute."),
    (0, "Is there a template for design reviews?"),
    (0, "Welcome to the community! Introduce yourself below."),
    (0, "Idea: dark mode for the mobile app, for reading on the train."),
    (0, "The meeting moved to Thursday at 10."),
    (0, "We fixed the bug that caused duplicate notifications. Please update to 4.2."),
    (0, "Could we get a bulk export endpoint? It would save us thousands of calls."),
    (0, "Congrats to the Berlin team on the launch!"),
    (0, "What is the rate limit for the search API?"),
    (0, "Release notes for version 5 are now online."),
    (0, "I love the new editor, much faster than before."),
    (0, "Does anyone have experience with Kafka consumer rebalancing?"),
    (0, "Negative numbers in the amount column are credits, not debits."),
    (0, "Please review my pull request when you have a minute."),
    (0, "The offsite agenda is attached, lunch is included."),
    (0, "Tip: use the keyboard shortcut Ctrl+K to search."),
    (0, "The old API version will be retired next year; the migration guide is here."),
    (0, "Good question! The retries use exponential backoff for 24 hours."),
    (0, "Can partners see the roadmap preview?"),
    (0, "Our pilot went well and the customer signed for two more years."),
    (0, "Deleting a thread hides it for everyone; moderators can restore it."),
    (0, "Fire drill on Friday at 11, please leave by the east stairs."),
    (0, "The test failed because the fixture was missing; fixed now."),
    (0, "Which tags should I use for billing questions?"),
    (0, "Happy to help with the onboarding sessions next week."),
    (0, "Is it possible to disable email digests?"),
    (0, "We stopped the legacy cron job, nothing else changes."),
]


def classifier_figures() -> None:
    tp = fp = fn = tn = 0
    misses = []
    for label, text in LABELLED:
        assessment = classifier.assess(text)
        predicted = int(assessment.score >= classifier.THRESHOLD)
        tp += predicted and label
        fp += predicted and not label
        fn += (not predicted) and label
        tn += (not predicted) and not label
        if predicted != label:
            misses.append((label, assessment.score, text))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"classifier (hand-written set: {sum(l for l, _ in LABELLED)} concerns, "
          f"{sum(1 - l for l, _ in LABELLED)} not; threshold {classifier.THRESHOLD}): "
          f"precision {precision:.2f}  recall {recall:.2f}  F1 {f1:.2f}  "
          f"(tp {tp}, fp {fp}, fn {fn}, tn {tn})")
    for label, score, text in misses:
        print(f"  {'missed' if label else 'false alarm'} (score {score:.2f}): {text}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def queue_figures(database: str | None) -> None:
    from sqlalchemy import select

    from collab import create_app
    from collab.concerns.models import Concern
    from collab.db import db

    url = database or f"sqlite:///{tempfile.mkdtemp(prefix='concerns-bench-')}/demo.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUTO_MIGRATE": True,
                      "ELASTICSEARCH_URL": None, "SEARCH_SYNC_IN_PROCESS": False})
    if database is None:
        result = app.test_cli_runner().invoke(args=["seed", "demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        rows = db.session.execute(select(Concern.opened_at, Concern.acknowledged_at,
                                         Concern.resolved_at, Concern.state)).all()
    hours = lambda a, b: (b - a).total_seconds() / 3600  # noqa: E731
    acknowledge = [hours(r.opened_at, r.acknowledged_at) for r in rows if r.acknowledged_at]
    resolve = [hours(r.opened_at, r.resolved_at) for r in rows if r.resolved_at]
    print(f"queue ({'demo data' if database is None else database}): {len(rows)} concerns, "
          f"{sum(r.state == 'open' for r in rows)} open")
    for name, values in (("time to acknowledge", acknowledge), ("time to resolve", resolve)):
        if values:
            print(f"  {name}: p50 {percentile(values, 0.5):.1f} h  p90 "
                  f"{percentile(values, 0.9):.1f} h  (n={len(values)})")
        else:
            print(f"  {name}: no data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="measure the queue of this database")
    args = parser.parse_args()
    classifier_figures()
    queue_figures(args.database)


if __name__ == "__main__":
    main()
