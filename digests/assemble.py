"""Step 4: one Digest per subscriber and issue date, with its ranked items."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from digests.brief import digest_brief_compose
from digests.models import Digest, DigestItem, Paper, Topic
from digests.scoring import PaperText, ProfileView, TopicView, paper_score
from subscribers.models import InterestProfile, Subscriber

__all__ = ["digest_assemble", "paper_text", "profile_view"]


def profile_view(profile: InterestProfile, *, language: str) -> ProfileView:
    topics = tuple(
        TopicView(
            slug=topic.slug,
            name=topic.name(language),
            keywords=tuple(topic.keywords),
            categories=tuple(topic.categories),
        )
        for topic in profile.topics.all()
    )
    return ProfileView(
        topics=topics,
        keywords=tuple(profile.keywords),
        exclude_keywords=tuple(profile.exclude_keywords),
        authors=tuple(profile.authors),
        categories=tuple(profile.categories),
    )


def paper_text(paper: Paper) -> PaperText:
    return PaperText(
        title=paper.title,
        abstract=paper.abstract,
        authors=tuple(paper.author_names),
        categories=tuple(paper.categories),
    )


def _already_seen(subscriber: Subscriber, issue_date: dt.date) -> set[int]:
    """Papers this reader got in an earlier digest: never shown twice."""
    return set(
        DigestItem.objects.filter(
            digest__subscriber=subscriber, digest__issue_date__lt=issue_date
        ).values_list("paper_id", flat=True)
    )


def digest_assemble(*, subscriber: Subscriber, issue_date: dt.date) -> Digest:
    """Build the subscriber's digest for `issue_date`, or return the one that already exists."""
    existing = Digest.objects.filter(subscriber=subscriber, issue_date=issue_date).first()
    if existing is not None:
        return existing
    profile = subscriber.profile
    view = profile_view(profile, language=subscriber.language)
    seen = _already_seen(subscriber, issue_date)
    scored = []
    for paper in Paper.objects.filter(announce_date=issue_date).exclude(id__in=seen):
        score = paper_score(paper_text(paper), view)
        if score.relevance >= max(profile.min_relevance, 1):
            scored.append((score, paper))
    scored.sort(key=lambda pair: (-pair[0].relevance, pair[1].arxiv_id))
    chosen = scored[: profile.max_items]
    topics = Topic.objects.in_bulk(
        [s.topic_slug for s, _paper in chosen if s.topic_slug], field_name="slug"
    )
    keyword_hits: dict[str, list[int]] = {}
    for rank, (score, _paper) in enumerate(chosen, start=1):
        for term in score.matched_terms:
            keyword_hits.setdefault(term, []).append(rank)
    brief = digest_brief_compose(
        date=issue_date,
        language=subscriber.language,
        ranked=[(rank, paper, s.topic_slug or "") for rank, (s, paper) in enumerate(chosen, 1)],
        topics=list(profile.topics.all()),
        keyword_hits=keyword_hits,
    )
    try:
        with transaction.atomic():
            digest = Digest.objects.create(
                subscriber=subscriber,
                issue_date=issue_date,
                brief=brief,
                status=Digest.Status.ASSEMBLED if chosen else Digest.Status.EMPTY,
                note="" if chosen else _("No paper reached your minimum relevance today."),
            )
            DigestItem.objects.bulk_create(
                DigestItem(
                    digest=digest,
                    paper=paper,
                    rank=rank,
                    relevance=score.relevance,
                    reason=score.reason,
                    topic=topics.get(score.topic_slug) if score.topic_slug else None,
                )
                for rank, (score, paper) in enumerate(chosen, start=1)
            )
    except IntegrityError:
        # Another worker assembled it first: the database keeps exactly one.
        return Digest.objects.get(subscriber=subscriber, issue_date=issue_date)
    return digest
