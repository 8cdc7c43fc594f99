"""The subject of a digest that carries only updated papers counts them, in the reference
render and the fast path alike (the feed's: tests/pages/test_digest_updates_page.py); "nothing
above your threshold" only when it is so."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from digests.mail.compose import Composer
from digests.models import Digest
from digests.render import digest_render, digest_subject
from tests.factories import (
    make_digest,
    make_digest_item,
    make_digest_update,
    make_paper,
    make_subscriber,
)

DAY = dt.date(2026, 6, 18)


def _updates_only(language: str = "en", updates: int = 1) -> Digest:
    reader = make_subscriber(email=f"ada-{language}@example.org", language=language)
    digest = make_digest(subscriber=reader, issue_date=DAY, status=Digest.Status.ASSEMBLED)
    for _ in range(updates):
        make_digest_update(digest=digest)
    return Digest.objects.select_related("subscriber").get(pk=digest.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "updates", "subject"),
    [
        ("en", 1, "arXiv digest 2026-06-18: 1 updated paper you got before"),
        ("en", 2, "arXiv digest 2026-06-18: 2 updated papers you got before"),
        ("zh", 2, "arXiv 论文日报 2026-06-18：你之前收到过的 2 篇论文有了新版本"),
    ],
)
def test_an_updates_only_digest_says_how_many_updated_papers_it_carries(language, updates, subject):
    digest = _updates_only(language, updates)

    reference = digest_render(digest)
    fast = Composer().render_chunk([digest])[digest.pk]

    assert reference.subject == fast.subject == subject
    assert "threshold" not in reference.subject and "阈值" not in reference.subject


@pytest.mark.django_db
def test_a_digest_with_new_papers_names_its_top_paper_whatever_its_updates():
    digest = _updates_only()
    make_digest_item(digest=digest, paper=make_paper(title="Top paper of the day"))

    subject = digest_render(digest).subject

    assert subject == "arXiv digest 2026-06-18: 1 paper — Top paper of the day"


@pytest.mark.django_db
def test_nothing_above_the_threshold_only_when_there_is_nothing_at_all():
    digest = make_digest(subscriber=make_subscriber(), issue_date=DAY)

    with translation.override("en"):
        subject = digest_subject(digest, [], 0)

    assert subject == "arXiv digest 2026-06-18: nothing above your threshold today"
