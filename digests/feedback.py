"""Step 7: a reader's "more / less like this" on a paper, and the papers they clicked in the
e-mail (as the ESP reports them), which the scorer reads back."""

from __future__ import annotations

import re

from django.utils import timezone

from digests.models import Delivery, Feedback, Paper
from subscribers.models import Subscriber

__all__ = ["click_record", "feedback_record", "paper_id_in_link"]

# The links of a paper in the e-mail: our paper page, arXiv's abstract, PDF and HTML pages.
_PAPER_LINK = re.compile(
    r"/(?:papers|abs|pdf|html)/((?:\d{4}\.\d{4,5})|(?:[a-z][a-z.-]*/\d{7}))(?:v\d+)?(?:[/.?#]|$)"
)


def feedback_record(*, subscriber: Subscriber, paper: Paper, signal: str) -> Feedback:
    """Remember "more" or "less like this"; the latest word on a paper wins."""
    feedback, _ = Feedback.objects.update_or_create(
        subscriber=subscriber,
        paper=paper,
        defaults={"signal": signal, "created_at": timezone.now()},
    )
    return feedback


def paper_id_in_link(url: str) -> str | None:
    """The arXiv id a clicked link leads to, if it is one of a paper's links."""
    found = _PAPER_LINK.search(url or "")
    return found.group(1) if found else None


def click_record(*, delivery: Delivery, url: str) -> Feedback | None:
    """A click on a paper of this delivery's digest: a positive example for the reader's own
    model. Never overrides their "more" or "less"; papers not in the digest are ignored."""
    arxiv_id = paper_id_in_link(url)
    if arxiv_id is None:
        return None
    paper = Paper.objects.filter(arxiv_id=arxiv_id, digest_items__digest=delivery.digest).first()
    if paper is None:
        return None
    feedback, _ = Feedback.objects.get_or_create(
        subscriber_id=delivery.digest.subscriber_id,
        paper=paper,
        defaults={"signal": Feedback.Signal.CLICK},
    )
    return feedback
