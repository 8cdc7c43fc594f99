"""The scorer's inputs, read from the database in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
from django.conf import settings

from digests.arxiv.seeds import seed_id
from digests.llm.embeddings import embedding_of
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import DigestItem, Enrichment, Feedback, Paper, Topic
from digests.scoring.categories import Evidence, categories_infer_many
from digests.scoring.learned import MAX_EXAMPLES, MIN_POSITIVES
from digests.scoring.lexical import LEXICAL_VERSION
from digests.scoring.reader_embeddings import interests_embed
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.semantic import paper_text
from subscribers.library import LibrarySeed, library_seeds
from subscribers.models import InterestProfile, Subscriber

__all__ = [
    "categories_inferred",
    "paper_rows",
    "profile_rows",
    "readers_keywords",
    "topic_parents",
]

FEEDBACK_MEMORY = 50  # the latest "more" and "less" signals that move a profile


def topic_parents() -> dict[str, str]:
    return dict(Topic.objects.filter(parent__isnull=False).values_list("slug", "parent__slug"))


def readers_keywords() -> set[str]:
    """Every active reader's keywords and excluded keywords: what enrichment looks for in the
    day's papers (`keyword_index.keywords_prepare`)."""
    found: set[str] = set()
    rows = (
        InterestProfile.objects.filter(subscriber__status=Subscriber.Status.ACTIVE)
        .values_list("keywords", "exclude_keywords")
        .iterator(chunk_size=5000)
    )
    for keywords, excluded in rows:
        for values in (keywords, excluded):
            if isinstance(values, list):
                found.update(v for v in values if isinstance(v, str))
    return found


def paper_rows(papers: list[Paper]) -> list[PaperRow]:
    """Papers with their topic hits: the best score any reading (LLM or lexical) gave."""
    hits: dict[int, dict[str, float]] = defaultdict(dict)
    readings = Enrichment.objects.filter(
        paper__in=papers,
        status__in=[Enrichment.Status.OK, Enrichment.Status.LLM_LESS],
        prompt_version__in=[ENRICH_PROMPT_VERSION, LEXICAL_VERSION],
    ).values_list("paper_id", "topic_hits")
    for paper_id, topic_hits in readings:
        for hit in topic_hits:
            known = hits[paper_id].get(hit["topic"], 0)
            hits[paper_id][hit["topic"]] = max(known, float(hit["score"]))
    return [
        PaperRow(
            id=paper.pk,
            title=paper.title,
            abstract=paper.abstract,
            authors=paper.author_names,
            affiliations=paper.affiliations,
            categories=paper.categories or [paper.primary_category],
            announce_type=paper.announce_type,
            topic_hits=hits[paper.pk],
            embedding=_embedding(paper),
        )
        for paper in papers
    ]


def _embedding(paper: Paper) -> np.ndarray | None:
    """The paper's vector, if it comes from the configured embedding model."""
    model = settings.LLM_EMBEDDING_MODEL
    if not model or paper.embedding_model != model:
        return None
    return embedding_of(paper)


def _mean_embedding(papers: list[Paper], interests: np.ndarray | None) -> np.ndarray | None:
    """The mean of the interests' vector and the seed and liked papers' vectors (those of one
    dimension with the first)."""
    vectors = [v for v in [interests, *map(_embedding, papers)] if v is not None]
    vectors = [v for v in vectors if v.shape == vectors[0].shape] if vectors else []
    return np.mean(vectors, axis=0) if vectors else None


class _Examples:
    """What each reader's own model learns from (`learned`): the papers they asked more of or
    clicked, against those they asked less of and those they were shown and left alone."""

    def __init__(self) -> None:
        self.positives: dict[int, list[tuple[str, str]]] = defaultdict(list)
        self.negatives: dict[int, list[tuple[str, str]]] = defaultdict(list)
        self.judged: set[tuple[int, int]] = set()

    def add(self, item: Feedback) -> None:
        self.judged.add((item.subscriber_id, item.paper_id))
        side = self.negatives if item.signal == Feedback.Signal.LESS else self.positives
        if len(side[item.subscriber_id]) < MAX_EXAMPLES:
            side[item.subscriber_id].append((item.paper.title, item.paper.abstract))

    def add_shown(self, day: dt.date | None) -> None:
        """The papers shown to the readers with enough positives, newest first, that they
        neither liked, clicked nor disliked: the negatives arxiv-sanity's SVM learns from."""
        learners = [pk for pk, found in self.positives.items() if len(found) >= MIN_POSITIVES]
        if not learners:
            return
        shown = DigestItem.objects.filter(digest__subscriber_id__in=learners)
        if day is not None:
            shown = shown.filter(digest__issue_date__lt=day)
        rows = shown.order_by("-digest__issue_date", "rank").values_list(
            "digest__subscriber_id", "paper_id", "paper__title", "paper__abstract"
        )
        for subscriber_id, paper_id, title, abstract in rows.iterator(chunk_size=2000):
            side = self.negatives[subscriber_id]
            if (subscriber_id, paper_id) not in self.judged and len(side) < MAX_EXAMPLES:
                self.judged.add((subscriber_id, paper_id))
                side.append((title, abstract))


def profile_rows(
    subscribers: list[Subscriber], *, day: dt.date | None = None, embed_interests: bool = True
) -> list[ProfileRow]:
    """Profiles with the texts of their seed papers and of their latest feedback; the categories
    they seem to read are inferred against the papers of the weeks up to `day` (default: the
    latest announcement day). With LLM_EMBEDDING_MODEL, the free-text interests are embedded
    too (`embed_interests=False` skips it where only the categories are wanted)."""
    library = library_seeds([s.pk for s in subscribers])  # their libraries' latest entries
    library_ids = {seed.arxiv_id for listed in library.values() for seed in listed}
    seed_papers = {
        p.arxiv_id: p
        for p in Paper.objects.filter(
            arxiv_id__in={seed_id(seed) for s in subscribers for seed in s.profile.seed_papers}
            | (library_ids - {""})
        )
    }
    seeds = {arxiv_id: paper_text(p.title, p.abstract) for arxiv_id, p in seed_papers.items()}
    feedback: dict[tuple[int, str], list[str]] = defaultdict(list)
    liked: dict[int, list[Paper]] = defaultdict(list)
    examples = _Examples()
    for item in (
        Feedback.objects.filter(subscriber__in=subscribers)
        .select_related("paper")
        .order_by("-created_at")
    ):
        examples.add(item)
        if item.signal == Feedback.Signal.CLICK:
            continue  # a click trains the reader's own model only
        texts = feedback[(item.subscriber_id, item.signal)]
        if len(texts) < FEEDBACK_MEMORY:
            texts.append(paper_text(item.paper.title, item.paper.abstract))
            if item.signal == Feedback.Signal.MORE:
                liked[item.subscriber_id].append(item.paper)
    examples.add_shown(day)
    inferred = categories_infer_many(
        [
            _evidence(s.profile, seed_papers, liked[s.pk], library.get(s.pk, []))
            for s in subscribers
        ],
        day=day,
    )
    interest_vectors = (
        interests_embed([s.profile.interests for s in subscribers], day=day)
        if embed_interests
        else {}
    )
    rows = []
    for subscriber, inferred_categories in zip(subscribers, inferred, strict=True):
        profile = subscriber.profile
        typed = [seeds[k] for k in map(seed_id, profile.seed_papers) if k in seeds]
        shelf = [  # the library: its paper's text when held, else the entry's own
            (seeds.get(seed.arxiv_id) or seed.text, seed.weight)
            for seed in library.get(subscriber.pk, [])
            if seed.arxiv_id in seeds or seed.text
        ]
        rows.append(
            ProfileRow(
                id=subscriber.pk,
                topics=[t.slug for t in profile.topics.all()],
                keywords=list(profile.keywords),
                exclude_keywords=list(profile.exclude_keywords),
                authors=list(profile.authors),
                institutions=list(profile.institutions),
                categories=list(profile.categories),
                inferred_categories=inferred_categories,
                interests=profile.interests,
                seed_texts=typed + [text for text, _weight in shelf],
                seed_weights=[1.0] * len(typed) + [weight for _text, weight in shelf]
                if shelf
                else [],
                more_texts=feedback[(subscriber.pk, Feedback.Signal.MORE)],
                less_texts=feedback[(subscriber.pk, Feedback.Signal.LESS)],
                learn_positives=examples.positives.get(subscriber.pk, []),
                learn_negatives=examples.negatives.get(subscriber.pk, []),
                include_updates=profile.include_updates,
                embedding=_mean_embedding(
                    [seed_papers[k] for k in map(seed_id, profile.seed_papers) if k in seed_papers]
                    + liked[subscriber.pk],
                    interest_vectors.get(profile.interests),
                ),
            )
        )
    return rows


def _evidence(
    profile: InterestProfile,
    seed_papers: dict[str, Paper],
    liked: list[Paper],
    library: list[LibrarySeed],
) -> Evidence:
    """What category inference reads of a profile: its free text, its seed, library and liked
    papers."""
    ids = [*map(seed_id, profile.seed_papers), *(s.arxiv_id for s in library)]
    papers = [seed_papers[k] for k in dict.fromkeys(ids) if k in seed_papers]
    return Evidence(
        texts=[profile.interests, *profile.keywords],  # keywords say what field too
        paper_categories=[
            [c for c in [p.primary_category, *p.categories] if c] for p in [*papers, *liked]
        ],
        known=profile.categories,
        dropped=profile.dropped_categories,
    )


def categories_inferred(subscriber: Subscriber) -> dict[str, float]:
    """The categories the reader seems to read, as the scorer infers them (for the profile
    editor): none without free text, keywords or seed papers, so the editor asks nothing more
    of a profile without them."""
    profile = subscriber.profile
    if (
        not profile.interests.strip()
        and not profile.keywords
        and not profile.seed_papers
        and not subscriber.library_entries.filter(dropped=False).exists()
    ):
        return {}
    return profile_rows([subscriber], embed_interests=False)[0].inferred_categories
