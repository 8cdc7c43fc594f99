"""Step 7: a reader's "more / less like this" on a paper, which the scorer reads back."""

from __future__ import annotations

from django.utils import timezone

from digests.models import Feedback, Paper
from subscribers.models import Subscriber

__all__ = ["feedback_record"]


def feedback_record(*, subscriber: Subscriber, paper: Paper, signal: str) -> Feedback:
    """Remember "more" or "less like this"; the latest word on a paper wins."""
    feedback, _ = Feedback.objects.update_or_create(
        subscriber=subscriber,
        paper=paper,
        defaults={"signal": signal, "created_at": timezone.now()},
    )
    return feedback
