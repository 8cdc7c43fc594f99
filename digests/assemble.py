"""Step 4: one Digest per subscriber and issue date, with its ranked items.

Every reader due is scored in one vectorised pass over the day's papers (`scoring`), then each
digest takes its picks (`ranking`) and its brief (`brief`, from the day's parts read once), and
the chunk's digests, items and updated papers are written in a few bulk statements. The
database keeps each digest unique per subscriber and day, so a second run, or a second worker,
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from digests.arxiv.seeds import seed_ids
from digests.brief import BriefParts
from digests.models import Digest, DigestItem, DigestUpdate, Paper, Topic
from digests.models.paper import announced_between
from digests.ranking import Pick, digest_pick
from digests.scoring.history import document_frequencies
from digests.scoring.inputs import paper_rows, profile_rows, topic_parents
from digests.scoring.paper_index import PaperIndex
from digests.scoring.rows import ProfileRow
from digests.scoring.scores import scores_compute
from digests.versions import UpdateNote, reader_updates
from newsletter.i18n import language_for_translation
from subscribers.library import library_arxiv_ids
from subscribers.models import Subscriber

__all__ = ["digest_assemble", "digests_assemble", "picks_for", "picks_ranked"]

CHUNK = 2000
WRITE_CHUNK = 500  # digests written per transaction (a send chunk's worth)
WRITE_BATCH = 1000  # rows per INSERT: within PostgreSQL's 65,535 parameters


def already_seen(subscribers: list[Subscriber], issue_date: dt.date) -> dict[int, set[int]]:
    """Papers each reader got in an earlier digest: never shown twice."""
    seen: dict[int, set[int]] = {s.pk: set() for s in subscribers}
    rows = DigestItem.objects.filter(
        digest__subscriber__in=subscribers, digest__issue_date__lt=issue_date
    ).values_list("digest__subscriber_id", "paper_id")
    for subscriber_id, paper_id in rows:
        seen[subscriber_id].add(paper_id)
    return seen


@dataclass
class _Made:
    """A digest made in memory, with its rows, before the chunk is written."""

    digest: Digest
    items: list[DigestItem]
    updates: list[DigestUpdate]


def _digest_make(
    *,
    subscriber: Subscriber,
    issue_date: dt.date,
    picks: list[Pick],
    papers: list[Paper],
    topics: dict[str, Topic],
    briefs: BriefParts,
    updates: Sequence[UpdateNote] = (),
) -> _Made:
    """The reader's digest, items and updated papers, unsaved."""
    keyword_hits: dict[str, list[int]] = {}
    for rank, pick in enumerate(picks, start=1):
        kind, _sep, term = pick.interest.partition(":")
        if kind in {"keyword", "author"}:
            keyword_hits.setdefault(term, []).append(rank)
    with override(language_for_translation(subscriber.language)):
        brief = briefs.compose(
            ranked=[(r, papers[p.paper], p.topic or "") for r, p in enumerate(picks, start=1)],
            topics=list(subscriber.profile.topics.all()),
            keyword_hits=keyword_hits,
        )
        note = "" if picks else _("No paper reached your minimum relevance today.")
    digest = Digest(
        subscriber=subscriber,
        issue_date=issue_date,
        brief=brief,
        status=Digest.Status.ASSEMBLED if picks or updates else Digest.Status.EMPTY,
        note=note,
    )
    items = [
        DigestItem(
            digest=digest,
            paper=papers[pick.paper],
            rank=rank,
            relevance=pick.relevance,
            reason="\n".join(pick.reasons),  # one reason a line (render)
            topic=topics.get(pick.topic) if pick.topic else None,
        )
        for rank, pick in enumerate(picks, start=1)
    ]
    rows = [
        DigestUpdate(digest=digest, paper_id=n.paper_id, version=n.version,
                     previous_version=n.previous_version, previous_date=n.previous_date)
        for n in updates
    ]  # fmt: skip
    return _Made(digest, items, rows)


def _digests_write(made: list[_Made]) -> list[Digest]:
    """Write a chunk's digests with their items and updated papers in a few bulk statements.

    The database keeps one digest per (subscriber, issue date): when another worker wrote one
    of them first, the chunk's statements fail together and each digest is written on its own
    instead, the other worker's kept (`_digest_write`)."""
    try:
        with transaction.atomic():
            Digest.objects.bulk_create([m.digest for m in made], batch_size=WRITE_BATCH)
            for m in made:  # the digests have their ids now
                _rows_tied(m)
            DigestItem.objects.bulk_create(
                [i for m in made for i in m.items], batch_size=WRITE_BATCH
            )
            DigestUpdate.objects.bulk_create(
                [u for m in made for u in m.updates], batch_size=WRITE_BATCH
            )
    except IntegrityError:
        for m in made:
            m.digest.pk = None
        return [_digest_write(m) for m in made]
    return [m.digest for m in made]


def _rows_tied(made: _Made) -> None:
    for item in made.items:
        item.digest = made.digest
    for update in made.updates:
        update.digest = made.digest


def _digest_write(made: _Made) -> Digest:
    digest = made.digest
    try:
        with transaction.atomic():
            digest.save(force_insert=True)
            _rows_tied(made)
            DigestItem.objects.bulk_create(made.items)
            DigestUpdate.objects.bulk_create(made.updates)
    except IntegrityError:
        # Another worker assembled it first: the database keeps exactly one.
        existing = Digest.objects.get(subscriber=digest.subscriber, issue_date=digest.issue_date)
        existing.subscriber = digest.subscriber
        return existing
    return digest


WEEK = dt.timedelta(days=7)


def _seeds_among(subscriber: Subscriber, papers: list[Paper]) -> set[int]:
    """The papers the reader gave as seeds: never recommended back to them."""
    seeds = set(seed_ids(subscriber.profile.seed_papers))
    return {p.pk for p in papers if p.arxiv_id in seeds} if seeds else set()


def _library_among(papers: list[Paper], library: set[str] | None) -> set[int]:
    """The papers of the reader's library (imported, Zotero): never recommended back."""
    return {p.pk for p in papers if p.arxiv_id in library} if library else set()


def digests_assemble(
    *,
    subscribers: Iterable[Subscriber],
    issue_date: dt.date,
    timings: dict[str, float] | None = None,
) -> list[Digest]:
    """Build the digest of `issue_date` for each subscriber, or return the one that exists.

    Daily readers get the day's papers; weekly readers the best of the seven days up to it.
    `timings` gets the seconds spent scoring and picking ("score") and making and writing the
    digests ("assemble") added to it.
    """
    timings = {} if timings is None else timings
    for name in ("score", "assemble"):
        timings.setdefault(name, 0.0)
    subscribers = list(subscribers)
    existing = {
        d.subscriber_id: d
        for d in Digest.objects.filter(subscriber__in=subscribers, issue_date=issue_date)
    }
    for subscriber in subscribers:  # sending reads the reader: no query per digest for it
        if subscriber.pk in existing:
            existing[subscriber.pk].subscriber = subscriber
    todo = [s for s in subscribers if s.pk not in existing]
    made: dict[int, Digest] = {}
    for frequency, first_day in (
        (Subscriber.Frequency.DAILY, issue_date),
        (Subscriber.Frequency.WEEKLY, issue_date - WEEK + dt.timedelta(days=1)),
    ):
        group = [s for s in todo if s.frequency == frequency]
        if group:
            papers = list(
                Paper.objects.filter(announced_between(first_day, issue_date)).order_by("pk")
            )
            made.update(_assemble_group(group, papers, issue_date, timings))
    return [existing.get(s.pk) or made[s.pk] for s in subscribers]


def picks_ranked(
    subscribers: list[Subscriber],
    papers: list[Paper],
    issue_date: dt.date,
    *,
    exclude: Mapping[int, set[int]],
    topics: list[Topic] | None = None,
) -> Iterator[tuple[Subscriber, list[Pick]]]:
    """Each reader's picks among `papers` (sorted by pk), ranked as their digest ranks them:
    one vectorised scoring pass, then `digest_pick` per reader. Assembly, the previews and the
    LLM's reach all rank through here.

    `exclude`: by subscriber id, paper ids kept out besides the reader's own seed papers;
    `topics`: the catalogue, when the caller holds it already.
    """
    topics = list(Topic.objects.all()) if topics is None else topics
    parents = topic_parents()
    rows = profile_rows(subscribers, day=issue_date)
    index = PaperIndex.reusing(
        paper_rows(papers), rows, frequencies=document_frequencies(issue_date)
    )
    by_id = {s.pk: s for s in subscribers}
    libraries = library_arxiv_ids(by_id)  # the papers of their libraries: never sent back
    rows_by_id: dict[int, ProfileRow] = {r.id: r for r in rows}
    names_by_language: dict[str, dict[str, str]] = {}
    today = {p.pk for p in papers}
    kept_out = {
        s.pk: (exclude.get(s.pk, set()) & today)
        | _seeds_among(s, papers)
        | _library_among(papers, libraries.get(s.pk))
        for s in subscribers
    }
    # Each reader's best papers are sorted in the scorer's threads: enough that the ones kept
    # out still leave every candidate `digest_pick` looks at (four per place).
    top = max((4 * s.profile.max_items + len(kept_out[s.pk]) for s in subscribers), default=0)
    scored = scores_compute(index.papers, rows, parents=parents, chunk=CHUNK, index=index, top=top)
    for chunk in scored:
        assert chunk.top is not None
        for position, subscriber_id in enumerate(chunk.profile_ids):
            subscriber = by_id[subscriber_id]
            profile = subscriber.profile
            language = subscriber.language
            if language not in names_by_language:
                names_by_language[language] = {t.slug: t.name(language) for t in topics}
            with override(language_for_translation(language)):
                picks = digest_pick(
                    relevance=chunk.relevance[position],
                    shares=chunk.shares(position),
                    index=index,
                    profile=rows_by_id[subscriber_id],
                    minimum=profile.min_relevance,
                    limit=profile.max_items,
                    exclude=kept_out[subscriber_id],
                    parents=parents,
                    topic_names=names_by_language[language],
                    serendipity=profile.serendipity,
                    ranked=chunk.top[position],
                )
            yield subscriber, picks


def _assemble_group(
    todo: list[Subscriber], papers: list[Paper], issue_date: dt.date, timings: dict[str, float]
) -> dict[int, Digest]:
    started = time.perf_counter()
    topics = {t.slug: t for t in Topic.objects.all()}
    seen = already_seen(todo, issue_date)
    updates = reader_updates(todo, papers, issue_date)  # new versions of papers they got
    briefs: dict[str, BriefParts] = {}
    made = []
    ranked = picks_ranked(todo, papers, issue_date, exclude=seen, topics=list(topics.values()))
    scoring = 0.0
    while True:
        step = time.perf_counter()
        found = next(ranked, None)
        scoring += time.perf_counter() - step
        if found is None:
            break
        subscriber, picks = found
        language = subscriber.language
        if language not in briefs:
            briefs[language] = BriefParts(date=issue_date, language=language)
        made.append(
            _digest_make(
                subscriber=subscriber,
                issue_date=issue_date,
                picks=picks,
                papers=papers,
                topics=topics,
                briefs=briefs[language],
                updates=updates[subscriber.pk],
            )
        )
    written: dict[int, Digest] = {}
    for start in range(0, len(made), WRITE_CHUNK):
        for digest in _digests_write(made[start : start + WRITE_CHUNK]):
            written[digest.subscriber_id] = digest
    timings["score"] += scoring
    timings["assemble"] += time.perf_counter() - started - scoring
    return written


def digest_assemble(*, subscriber: Subscriber, issue_date: dt.date) -> Digest:
    """Build one subscriber's digest for `issue_date` (see `digests_assemble`)."""
    return digests_assemble(subscribers=[subscriber], issue_date=issue_date)[0]


def picks_for(
    *, subscriber: Subscriber, issue_date: dt.date, exclude: set[int]
) -> tuple[list[Paper], list[Pick]]:
    """What assembly would pick for one reader (saved or a draft), writing nothing.

    The papers of the day (of the week, for weekly readers) and the picks into them, ranked as
    `digests_assemble` ranks (the reader's own seed papers left out): for the profile editor's
    live preview and staff's preview.
    """
    first_day = issue_date
    if subscriber.frequency == Subscriber.Frequency.WEEKLY:
        first_day = issue_date - WEEK + dt.timedelta(days=1)
    papers = list(Paper.objects.filter(announced_between(first_day, issue_date)).order_by("pk"))
    if not papers:
        return [], []
    [(_, picks)] = picks_ranked([subscriber], papers, issue_date, exclude={subscriber.pk: exclude})
    return papers, picks
