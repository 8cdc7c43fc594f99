"""Step 3: relevance 0–100 of every paper for every reader, in one vectorised pass.

Pure functions over arrays: no database, no network, no LLM call. Each signal gives evidence
(topic hits, keywords in title and abstract, followed authors, institutions, categories,
similarity to free-text interests, seed papers and feedback); the evidence adds up and
relevance = 100 × (1 − e^(−evidence)). Nothing depends on the day's other papers, so a paper
and a profile get the same score on any day, and a minimum relevance of 60 always means the
same thing. Readers are scored in chunks, so memory stays bounded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from digests.matching import (
    author_keys_followed,
    author_keys_written,
    institution_tokens,
    phrase_variants,
    stems,
)

__all__ = [
    "WEIGHTS",
    "PaperIndex",
    "PaperRow",
    "ProfileRow",
    "Reason",
    "Scores",
    "scores_compute",
]

# Evidence per signal; relevance = 100 (1 - exp(-evidence)): 0.5 → 39, 1 → 63, 2 → 86.
WEIGHTS = {
    "author": 2.0,
    "keyword_title": 1.0,
    "keyword_abstract": 0.55,
    "topic": 1.1,
    "institution": 0.9,
    "category_primary": 0.18,
    "category_cross": 0.08,
    "text": 4.0,
    "feedback_more": 3.0,
    "feedback_less": 4.0,
}
TEXT_FLOOR = 0.05  # cosine similarity below this is noise
REPLACEMENT_FACTOR = 0.6  # replacements rank below new papers unless the reader wants updates
MAX_PHRASE = 6


class Reason:
    """What scored most, as a small code per (reader, paper)."""

    NONE, AUTHOR, KEYWORD, TOPIC, INSTITUTION, TEXT, FEEDBACK, CATEGORY = range(8)
    NAMES = ("", "author", "keyword", "topic", "institution", "interests", "feedback", "category")


@dataclass
class PaperRow:
    """A paper as the scorer reads it; categories start with the primary one."""

    id: int
    title: str
    abstract: str
    authors: list[str]
    affiliations: list[str]
    categories: list[str]
    announce_type: str = "new"
    topic_hits: dict[str, float] = field(default_factory=dict)  # slug → 0..100


@dataclass
class ProfileRow:
    id: int
    topics: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    institutions: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    interests: str = ""
    seed_texts: list[str] = field(default_factory=list)
    more_texts: list[str] = field(default_factory=list)
    less_texts: list[str] = field(default_factory=list)
    include_updates: bool = False


_VECTORIZER = HashingVectorizer(
    n_features=2**18,
    ngram_range=(1, 2),
    stop_words="english",
    alternate_sign=False,
    norm=None,
    dtype=np.float32,
)


def _text_vectors(texts: list[str]) -> sparse.csr_matrix:
    """Sublinear term counts, L2-normalised: cosine is a plain dot product, day-independent."""
    counts = _VECTORIZER.transform(texts)
    counts.data = 1 + np.log(counts.data)
    return normalize(counts, norm="l2", copy=False).astype(np.float32)


def _phrases(words: list[str], starts: set[str], longest: int) -> set[str]:
    """Every run of up to `longest` words beginning with a word some phrase begins with."""
    found = set()
    for i, word in enumerate(words):
        if word in starts:
            for n in range(1, longest + 1):
                if i + n <= len(words):
                    found.add(" ".join(words[i : i + n]))
    return found


class PaperIndex:
    """The day's papers, indexed once for every chunk of readers."""

    def __init__(self, papers: list[PaperRow], profiles: list[ProfileRow]) -> None:
        self.papers = papers
        n = len(papers)
        phrases = {
            variant
            for p in profiles
            for k in (*p.keywords, *p.exclude_keywords)
            for variant in phrase_variants(k)
        }
        self.phrase_ids = {phrase: i for i, phrase in enumerate(sorted(phrases))}
        starts = {phrase.split()[0] for phrase in phrases}
        longest = min(MAX_PHRASE, max((len(p.split()) for p in phrases), default=1))
        self.title_words = [stems(p.title) for p in papers]
        title_rows, abstract_rows = [], []
        for index, paper in enumerate(papers):
            in_title = _phrases(self.title_words[index], starts, longest)
            in_abstract = _phrases(stems(paper.abstract), starts, longest)
            title_rows += [(index, self.phrase_ids[p]) for p in in_title if p in self.phrase_ids]
            abstract_rows += [
                (index, self.phrase_ids[p]) for p in in_abstract if p in self.phrase_ids
            ]
        self.in_title = _binary(title_rows, n, len(self.phrase_ids))
        self.in_abstract = _binary(abstract_rows, n, len(self.phrase_ids))

        self.author_ids: dict[str, int] = {}
        author_rows = []
        for index, paper in enumerate(papers):
            for name in paper.authors:
                for key in author_keys_written(name):
                    author_rows.append(
                        (index, self.author_ids.setdefault(key, len(self.author_ids)))
                    )
        self.by_author = _binary(author_rows, n, len(self.author_ids))

        self.affiliations = [[institution_tokens(a) for a in p.affiliations] for p in papers]
        postings: dict[str, set[int]] = defaultdict(set)
        for index, affiliations in enumerate(self.affiliations):
            for tokens in affiliations:
                for token in tokens:
                    postings[token].add(index)
        self.affiliation_postings = postings

        self.category_ids: dict[str, int] = {}
        primary_rows, cross_rows = [], []
        for index, paper in enumerate(papers):
            for position, category in enumerate(paper.categories):
                column = self.category_ids.setdefault(category, len(self.category_ids))
                (primary_rows if position == 0 else cross_rows).append((index, column))
        self.primary = _binary(primary_rows, n, len(self.category_ids))
        self.cross = _binary(cross_rows, n, len(self.category_ids))

        self.topic_ids: dict[str, int] = {}
        topic_rows = []
        for index, paper in enumerate(papers):
            for slug, score in paper.topic_hits.items():
                column = self.topic_ids.setdefault(slug, len(self.topic_ids))
                topic_rows.append((index, column, score / 100.0))
        self.hits = _weighted(topic_rows, n, len(self.topic_ids))

        self.vectors = _text_vectors([f"{p.title}\n{p.abstract}" for p in papers])
        self.is_replacement = np.array(
            [p.announce_type.startswith("replace") for p in papers], dtype=bool
        )

    def institution_papers(self, institution: str) -> set[int]:
        """Papers with one affiliation holding every distinctive word of `institution`."""
        wanted = institution_tokens(institution)
        if not wanted:
            return set()
        candidates = set.intersection(*(self.affiliation_postings.get(t, set()) for t in wanted))
        return {i for i in candidates if any(wanted <= a for a in self.affiliations[i])}


def _binary(rows: list[tuple[int, int]], n: int, m: int) -> sparse.csr_matrix:
    return _weighted([(r, c, 1.0) for r, c in set(rows)], n, m)


def _weighted(rows: list[tuple[int, int, float]], n: int, m: int) -> sparse.csr_matrix:
    if not rows:
        return sparse.csr_matrix((n, max(m, 1)), dtype=np.float32)
    r, c, v = zip(*rows, strict=True)
    return sparse.csr_matrix(
        (np.array(v, dtype=np.float32), (r, c)), shape=(n, max(m, 1)), dtype=np.float32
    )


@dataclass
class Scores:
    """One chunk of readers: relevance (readers × papers, uint8) and what scored most."""

    profile_ids: list[int]
    relevance: np.ndarray
    reason: np.ndarray


def _profile_matrix(
    profiles: list[ProfileRow], values: list[list[str]], ids: dict[str, int]
) -> sparse.csr_matrix:
    rows = [(r, ids[v]) for r, vs in enumerate(values) for v in vs if v in ids]
    return _binary(rows, len(profiles), len(ids))


def _topic_columns(slugs: list[str], index: PaperIndex, parents: dict[str, str]) -> list[str]:
    """A followed topic also takes its sub-topics' hits (following "llm" covers post-training)."""
    children = defaultdict(list)
    for child, parent in parents.items():
        children[parent].append(child)
    wanted, stack = set(), list(slugs)
    while stack:
        slug = stack.pop()
        if slug not in wanted:
            wanted.add(slug)
            stack.extend(children.get(slug, []))
    return [s for s in wanted if s in index.topic_ids]


def _keyword_columns(keywords: list[str]) -> list[str]:
    return sorted({variant for k in keywords for variant in phrase_variants(k)})


def _centroid(texts: list[str]) -> sparse.csr_matrix | None:
    if not texts:
        return None
    return normalize(sparse.csr_matrix(_text_vectors(texts).mean(axis=0)), norm="l2")


def _chunk_scores(index: PaperIndex, profiles: list[ProfileRow], parents: dict[str, str]) -> Scores:
    n = len(profiles)
    p = len(index.papers)
    evidence = np.zeros((n, p), dtype=np.float32)
    best = np.zeros((n, p), dtype=np.float32)
    reason = np.zeros((n, p), dtype=np.uint8)

    def add(part: np.ndarray, code: int, rows: slice | int = slice(None)) -> None:
        """Add evidence and remember, per cell, which signal gave the most."""
        evidence[rows] += part
        stronger = part > best[rows]
        best[rows] = np.where(stronger, part, best[rows])
        reason[rows] = np.where(stronger, code, reason[rows])

    followed_categories = _profile_matrix(
        profiles, [x.categories for x in profiles], index.category_ids
    )
    add(
        WEIGHTS["category_primary"] * (followed_categories @ index.primary.T).toarray().clip(0, 1)
        + WEIGHTS["category_cross"] * (followed_categories @ index.cross.T).toarray().clip(0, 1),
        Reason.CATEGORY,
    )
    topics = _profile_matrix(
        profiles, [_topic_columns(x.topics, index, parents) for x in profiles], index.topic_ids
    )
    add(WEIGHTS["topic"] * np.minimum((topics @ index.hits.T).toarray(), 1.4), Reason.TOPIC)
    keywords = _profile_matrix(
        profiles, [_keyword_columns(x.keywords) for x in profiles], index.phrase_ids
    )
    title_hits = (keywords @ index.in_title.T).toarray()
    abstract_hits = (keywords @ index.in_abstract.T).toarray()
    add(
        WEIGHTS["keyword_title"] * np.minimum(title_hits, 2)
        + WEIGHTS["keyword_abstract"] * np.minimum(abstract_hits, 3),
        Reason.KEYWORD,
    )
    follows = _profile_matrix(
        profiles,
        [sorted({k for name in x.authors for k in author_keys_followed(name)}) for x in profiles],
        index.author_ids,
    )
    add(
        WEIGHTS["author"] * np.minimum((follows @ index.by_author.T).toarray(), 1.5),
        Reason.AUTHOR,
    )
    institutions = np.zeros((n, p), dtype=np.float32)
    for row, profile in enumerate(profiles):
        for name in profile.institutions:
            for paper in index.institution_papers(name):
                institutions[row, paper] = WEIGHTS["institution"]
    add(institutions, Reason.INSTITUTION)

    # free-text interests and seed papers; feedback
    texts = [" ".join([x.interests, *x.seed_texts]).strip() for x in profiles]
    if any(texts):
        similarity = (_text_vectors(texts) @ index.vectors.T).toarray()
        add(WEIGHTS["text"] * np.maximum(similarity - TEXT_FLOOR, 0), Reason.TEXT)
    for row, profile in enumerate(profiles):
        more, less = _centroid(profile.more_texts), _centroid(profile.less_texts)
        if more is not None:
            similarity = (more @ index.vectors.T).toarray()[0]
            add(
                WEIGHTS["feedback_more"] * np.maximum(similarity - TEXT_FLOOR, 0),
                Reason.FEEDBACK,
                row,
            )
        if less is not None:
            similarity = (less @ index.vectors.T).toarray()[0]
            evidence[row] -= WEIGHTS["feedback_less"] * np.maximum(similarity - TEXT_FLOOR, 0)

    # exclusions and replacements
    excluded = _profile_matrix(
        profiles,
        [_keyword_columns(x.exclude_keywords) for x in profiles],
        index.phrase_ids,
    )
    hit = ((excluded @ index.in_title.T) + (excluded @ index.in_abstract.T)).toarray() > 0
    evidence[hit] = 0
    wants_updates = np.array([x.include_updates for x in profiles], dtype=bool)
    damp = np.outer(~wants_updates, index.is_replacement)
    evidence[damp] *= REPLACEMENT_FACTOR

    np.maximum(evidence, 0, out=evidence)
    relevance = np.rint(100 * -np.expm1(-evidence)).astype(np.uint8)
    reason[relevance == 0] = Reason.NONE
    return Scores([x.id for x in profiles], relevance, reason)


def scores_compute(
    papers: list[PaperRow],
    profiles: list[ProfileRow],
    *,
    parents: dict[str, str] | None = None,
    chunk: int = 2000,
    index: PaperIndex | None = None,
) -> Iterator[Scores]:
    """Score every profile against every paper, `chunk` profiles at a time."""
    index = index or PaperIndex(papers, profiles)
    for start in range(0, len(profiles), chunk):
        yield _chunk_scores(index, profiles[start : start + chunk], parents or {})
