"""What staff do to a subscriber or a delivery from the admin: plain functions, one per action.

The admin classes only call these and turn their answers into messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from digests.assemble import picks_for
from digests.models import Delivery, Digest, DigestItem, Topic
from digests.readings import readings_for
from digests.shown import ShownPaper, shown_paper
from digests.tasks import digest_deliver
from subscribers.models import Subscriber
from subscribers.services import subscriber_suppress
from subscribers.session import SIGNED_IN_STATUSES
from subscribers.signin import signin_link_send

__all__ = [
    "DayPreview",
    "DayPreviewItem",
    "RetryRefused",
    "delivery_retry",
    "subscriber_day_preview",
    "subscriber_signin_link_resend",
    "subscriber_staff_suppress",
    "subscriber_unsuppress",
]


# Confirmed non-deliveries: the ESP refused the message, or reported it bounced.
RETRYABLE = frozenset({Delivery.Status.FAILED, Delivery.Status.BOUNCED})


class RetryRefused(ValueError):
    """The delivery may not be sent again; the message says why, for staff."""


@transaction.atomic
def delivery_retry(*, delivery_id: int, by: str = "staff") -> Delivery:
    """Queue again a delivery that failed for good, and send it once that is committed.

    For an address fixed after a refusal or a bounce. Only those are retried: a sent or
    delivered one went out, and a sending one may have (the ESP never answered), so none is
    ever re-sent blindly. Attempts are kept; the old error is kept in the note.
    """
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("digest__subscriber")
        .get(pk=delivery_id)
    )
    digest, subscriber = delivery.digest, delivery.digest.subscriber
    if delivery.status not in RETRYABLE:
        raise RetryRefused(
            f"{digest}: the delivery is {delivery.get_status_display()}; only a failed or "
            "bounced delivery is retried (any other may have reached the reader)."
        )
    if not subscriber.is_active:
        raise RetryRefused(
            f"{digest}: {subscriber.email} is {subscriber.get_status_display()}; "
            "make the subscriber active first."
        )
    if digest.status not in (Digest.Status.ASSEMBLED, Digest.Status.FAILED):
        raise RetryRefused(f"{digest}: the digest is {digest.get_status_display()}.")
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
    delivery.last_error = f"retried by {by} at {stamp}; before: {delivery.last_error}"[:2000]
    delivery.status = Delivery.Status.QUEUED
    delivery.claimed_at = None
    delivery.save(update_fields=["status", "last_error", "claimed_at", "updated_at"])
    Digest.objects.filter(pk=digest.pk, status=Digest.Status.FAILED).update(
        status=Digest.Status.ASSEMBLED
    )
    digest_id = digest.pk
    transaction.on_commit(lambda: digest_deliver.delay(digest_id))
    return delivery


def subscriber_signin_link_resend(*, subscriber: Subscriber) -> bool:
    """Mail a fresh magic link; False when the subscription may not sign in to its profile
    (a reader who left asks for their own link, for their data)."""
    if subscriber.status not in SIGNED_IN_STATUSES:
        return False
    return signin_link_send(email=subscriber.email)


def subscriber_staff_suppress(*, subscriber: Subscriber) -> bool:
    """Suppress the address as a bounce would; False if it already was."""
    changed = subscriber_suppress(email=subscriber.email)
    subscriber.refresh_from_db()
    return bool(changed)


@transaction.atomic
def subscriber_unsuppress(*, subscriber: Subscriber) -> bool:
    """Lift a suppression (the address was fixed): active if it was confirmed, else pending."""
    changed = Subscriber.objects.filter(
        pk=subscriber.pk, status=Subscriber.Status.SUPPRESSED
    ).update(
        status=Subscriber.Status.ACTIVE
        if subscriber.confirmed_at is not None
        else Subscriber.Status.PENDING
    )
    subscriber.refresh_from_db()
    return bool(changed)


@dataclass(frozen=True)
class DayPreviewItem:
    """A paper the subscriber's digest would hold: its rank, the shown paper, why it was picked."""

    rank: int
    shown: ShownPaper  # in the subscriber's language; staff see only the LLM's summary
    reason: str
    topic: str


@dataclass(frozen=True)
class DayPreview:
    issue_date: dt.date
    considered: int
    items: list[DayPreviewItem]
    digest: Digest | None  # the digest assembled for that day, if any


def subscriber_day_preview(*, subscriber: Subscriber, issue_date: dt.date) -> DayPreview:
    """Rank `issue_date`'s papers for the subscriber's saved profile, as assembly would.

    Assembly's own ranking (`picks_for`), papers already sent left out, and nothing written.
    """
    subscriber = (
        Subscriber.objects.select_related("profile")
        .prefetch_related("profile__topics")
        .get(pk=subscriber.pk)
    )
    digest = Digest.objects.filter(subscriber=subscriber, issue_date=issue_date).first()
    if not hasattr(subscriber, "profile"):
        return DayPreview(issue_date=issue_date, considered=0, items=[], digest=digest)
    seen = set(
        DigestItem.objects.filter(
            digest__subscriber=subscriber, digest__issue_date__lt=issue_date
        ).values_list("paper_id", flat=True)
    )
    papers, picks = picks_for(subscriber=subscriber, issue_date=issue_date, exclude=seen)
    if not papers:
        return DayPreview(issue_date=issue_date, considered=0, items=[], digest=digest)
    names = {t.slug: t.name(subscriber.language) for t in Topic.objects.all()}
    chosen = [papers[pick.paper] for pick in picks]
    readings = readings_for(chosen, subscriber.language)
    items = [
        DayPreviewItem(
            rank=rank,
            shown=shown_paper(paper, readings[paper.pk], relevance=pick.relevance),
            reason=pick.reason,
            topic=names.get(pick.topic or "", ""),
        )
        for rank, (pick, paper) in enumerate(zip(picks, chosen, strict=True), start=1)
    ]
    return DayPreview(issue_date=issue_date, considered=len(papers), items=items, digest=digest)
