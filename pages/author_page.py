"""The public author page: every paper we hold of a name, by batches, and the follow chip.

Papers come from two places: the days we ingested (`digests.authors`' index, every spelling
the name matches) and the arXiv API's author search (`digests.arxiv.author_backfill`), queued
by the view on a first visit. A batch is BATCH_SIZE papers: the first the newest, and "another
batch" (换一批, as on the reference screens) draws a different set: the other papers in an order
shuffled once per author, batch after batch, then round again. Built in a fixed number of
queries, whatever the author's number of papers.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db.models import Q

from digests.arxiv.author_backfill import author_key
from digests.authors import author_index, author_papers
from digests.models import AuthorBackfill, Paper, Topic
from digests.scoring.matching import author_keys_followed
from pages.lists import PaperItem, paper_items
from subscribers.models import InterestProfile, Subscriber
from subscribers.profile_fields import LIST_ITEM_MAX, LIST_MAX

__all__ = [
    "BATCH_SIZE",
    "AuthorChip",
    "AuthorPage",
    "author_follow_set",
    "author_page_build",
    "batch_draw",
]

BATCH_SIZE = 20
_EVERY = 10**9  # "all of the author's papers" for the index's slice


@dataclass(frozen=True)
class AuthorChip:
    """The chip with the author's name: × to unfollow for a reader who follows them."""

    can_follow: bool  # a reader signed in who may edit their profile
    follows: bool


@dataclass(frozen=True)
class AuthorPage:
    name: str
    searchable: bool  # a name of two parts or more (one word has no page)
    total: int
    items: list[PaperItem]
    batch: int
    batches: int
    next_batch: int  # what "another batch" draws (0: no other batch)
    lookup: str  # "" (never asked), or an AuthorBackfill state
    lookup_error: str
    chip: AuthorChip

    @property
    def looking_up(self) -> bool:
        return self.lookup == AuthorBackfill.State.PENDING

    @property
    def lookup_failed(self) -> bool:
        return self.lookup == AuthorBackfill.State.FAILED


def batch_draw(ordered: list[int], *, seed: str, batch: int, size: int) -> tuple[int, list[int]]:
    """The batch shown (1-based, wrapping round) and its ids, from ids given newest first.

    The first batch is the newest `size`; the others come from the rest in an order shuffled
    once for `seed`, so each batch is a different set until every paper was shown.
    """
    if not ordered:
        return 1, []
    count = -(-len(ordered) // size)
    shown = (batch - 1) % count + 1
    rest = ordered[size:]
    random.Random(seed).shuffle(rest)
    drawn = [*ordered[:size], *rest][(shown - 1) * size : shown * size]
    position = {pid: i for i, pid in enumerate(ordered)}
    return shown, sorted(drawn, key=position.__getitem__)


def _newest_first(index_ids: list[int], backfill: AuthorBackfill | None) -> list[int]:
    """Both lists' papers, each once, newest first (announcement day, else first version)."""
    if backfill is None or not backfill.arxiv_ids:
        return index_ids  # the index gives them newest first already
    rows = Paper.objects.filter(Q(pk__in=index_ids) | Q(arxiv_id__in=backfill.arxiv_ids))
    dated = []
    for pk, arxiv_id, announced, published in rows.values_list(
        "pk", "arxiv_id", "announce_date", "published"
    ):
        day = announced or (published.date() if published else dt.date.min)
        dated.append((day, arxiv_id, pk))
    return [pk for *_, pk in sorted(dated, reverse=True)]


def _follows(profile: InterestProfile | None, name: str) -> bool:
    keys = author_keys_followed(name)
    return profile is not None and any(author_keys_followed(a) == keys for a in profile.authors)


def author_page_build(
    *,
    name: str,
    batch: int,
    language: str,
    subscriber: Subscriber | None,
    may_edit: bool,
    backfill: AuthorBackfill | None,
) -> AuthorPage:
    """The papers of `name` and of the spellings matching it (initials too), one batch."""
    key = author_key(name)
    _total, index_ids = author_papers(index=author_index(), name=name, offset=0, limit=_EVERY)
    ordered = _newest_first(index_ids, backfill)
    shown, ids = batch_draw(ordered, seed=key, batch=batch, size=BATCH_SIZE)
    items = (
        paper_items(
            paper_ids=ids,
            language=language,
            topics={t.slug: t for t in Topic.objects.all()},
            focus=None,
            relevance=None,
        )
        if ids
        else []
    )
    batches = -(-len(ordered) // BATCH_SIZE)
    profile = (
        InterestProfile.objects.filter(subscriber=subscriber).first()
        if subscriber is not None and may_edit
        else None
    )
    return AuthorPage(
        name=name,
        searchable=bool(key),
        total=len(ordered),
        items=items,
        batch=shown,
        batches=batches,
        next_batch=shown % batches + 1 if batches > 1 else 0,
        lookup=backfill.state if backfill else "",
        lookup_error=backfill.error if backfill else "",
        chip=AuthorChip(can_follow=profile is not None, follows=_follows(profile, name)),
    )


def author_follow_set(*, subscriber: Subscriber, name: str, follow: bool) -> bool:
    """Follow `name` (added to the profile's authors) or stop (every spelling of it dropped).

    False when nothing could change: a name of one word, too long, or a list already full.
    """
    keys = author_keys_followed(name)
    if not keys or len(name) > LIST_ITEM_MAX:
        return False
    profile, _created = InterestProfile.objects.get_or_create(subscriber=subscriber)
    others = [a for a in profile.authors if author_keys_followed(a) != keys]
    if follow:
        if len(others) < len(profile.authors):
            return True  # followed already, in some spelling
        if len(others) >= LIST_MAX:
            return False
        profile.authors = [*others, name]
    else:
        profile.authors = others
    profile.save(update_fields=["authors", "updated_at"])
    return True
