"""Authors of the ingested papers: name suggestions and each author's papers, newest first.

Both read one in-memory index of every paper's authors, keyed as `digests.matching` keys names
(so "L. Mazzaschi" meets "Lorenzo Mazzaschi" the way the scorer lets it). Scanning the authors
of 100k papers takes seconds, so the index is built once per batch of new papers: shared through
the Django cache (Redis when configured) and kept in each process; a request costs one indexed
query (the latest paper id) and a dictionary-free binary search.
"""

from __future__ import annotations

import heapq
import re
import threading
import uuid
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Max

from digests.matching import author_keys_followed, author_keys_written, fold
from digests.models import Paper

__all__ = [
    "AuthorIndex",
    "AuthorSuggestion",
    "author_index",
    "author_index_build",
    "author_papers",
    "author_suggest",
    "name_tokens",
    "suggest_words",
]

SUGGEST_LIMIT = 10
SUGGEST_MIN_CHARS = 2
INDEX_TTL = 3600  # seconds: corrected author lists of existing papers show up within this
_TOKEN_SPLIT = re.compile(r"[\s,]+")
_PREFIX_END = "\U0010ffff"  # sorts after every character a name holds


def name_tokens(text: str) -> list[str]:
    """Folded, lower-cased name parts; a hyphenated part also as its pieces and joined."""
    tokens: list[str] = []
    for part in _TOKEN_SPLIT.split(fold(text).lower().replace(".", " ")):
        pieces = [p for p in part.split("-") if p]
        if not pieces:
            continue
        tokens.extend(pieces)
        if len(pieces) > 1:
            tokens.append("".join(pieces))
    return tokens


def suggest_words(query: str) -> list[str]:
    """The words to look up, none when the query is under SUGGEST_MIN_CHARS letters."""
    words = name_tokens(query)
    return words if sum(map(len, words)) >= SUGGEST_MIN_CHARS else []


@dataclass(frozen=True)
class AuthorSuggestion:
    name: str
    papers: int


@dataclass(frozen=True)
class AuthorIndex:
    """Every written author key with its papers (as recency positions) and its usual spelling.

    Flat arrays, not dicts of sets: compact to keep per process and quick to pickle.
    """

    paper_ids: array  # recency position → paper id, newest first
    keys: list[str]  # sorted author keys ("f:lorenzo mazzaschi", "i:l mazzaschi")
    names: list[str]  # per key: its most common spelling
    starts: array  # per key: where its positions begin in `positions` (len(keys) + 1 entries)
    positions: array  # recency positions, ascending within each key
    rank: array  # per key: 0 for the author with most papers, 1 for the next…
    tokens: list[str]  # sorted name parts of every spelling
    token_keys: array  # per token: the key it belongs to

    def key_positions(self, key: str) -> array:
        i = bisect_left(self.keys, key)
        if i == len(self.keys) or self.keys[i] != key:
            return array("I")
        return self.positions[self.starts[i] : self.starts[i + 1]]


def author_index_build(papers: Iterable[tuple[int, list[str]]]) -> AuthorIndex:
    """Index (paper id, author names) pairs given newest first."""
    paper_ids = array("q")
    by_key: dict[str, list[int]] = defaultdict(list)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    written: dict[str, set[str]] = {}  # prolific authors recur: fold each spelling once
    for position, (paper_id, names) in enumerate(papers):
        paper_ids.append(paper_id)
        for name in names:
            keys = written.get(name)
            if keys is None:
                keys = written[name] = author_keys_written(name)
            for key in keys:
                held = by_key[key]
                if not held or held[-1] != position:  # a name twice on one paper counts once
                    held.append(position)
                spellings[key][name.strip()] += 1
    keys = sorted(by_key)
    names = [_usual_spelling(spellings[key]) for key in keys]
    starts, positions = array("I", [0]), array("I")
    for key in keys:
        positions.extend(by_key[key])
        starts.append(len(positions))
    order = sorted(range(len(keys)), key=lambda i: (-len(by_key[keys[i]]), names[i]))
    rank = array("I", bytes(4 * len(keys)))
    for place, i in enumerate(order):
        rank[i] = place
    pairs = sorted(
        {(token, i) for i, key in enumerate(keys) for token in _key_tokens(key, spellings[key])}
    )
    return AuthorIndex(
        paper_ids=paper_ids,
        keys=keys,
        names=names,
        starts=starts,
        positions=positions,
        rank=rank,
        tokens=[token for token, _ in pairs],
        token_keys=array("I", [i for _, i in pairs]),
    )


def _usual_spelling(spellings: Counter[str]) -> str:
    """The most written form, preferring one without TeX accents ("Hajdu\\v{s}ek")."""
    return max(spellings, key=lambda name: ("\\" not in name, spellings[name]))


def _key_tokens(key: str, spellings: Counter[str]) -> set[str]:
    tokens = set(key[2:].split())
    for name in spellings:
        tokens.update(name_tokens(name))
    return tokens


def _followed_positions(index: AuthorIndex, name: str) -> list[int]:
    found: set[int] = set()
    for key in author_keys_followed(name):
        found.update(index.key_positions(key))
    return sorted(found)


def author_papers(
    *, index: AuthorIndex, name: str, offset: int, limit: int
) -> tuple[int, list[int]]:
    """How many papers the author page for `name` lists, and the ids of one slice, newest first."""
    positions = _followed_positions(index, name)
    return len(positions), [index.paper_ids[p] for p in positions[offset : offset + limit]]


def author_suggest(
    *, index: AuthorIndex, query: str, limit: int = SUGGEST_LIMIT
) -> list[AuthorSuggestion]:
    """Authors with a name part starting with each word of `query`, most papers first.

    Case- and accent-insensitive ("zoe" finds Zoë, "hajdus" finds Hajdu\\v{s}ek). The count is
    what the author's page lists, initials included.
    """
    words = suggest_words(query)
    if not words:
        return []
    candidates: set[int] | None = None
    for word in sorted(set(words), key=len, reverse=True):  # the most selective word first
        low = bisect_left(index.tokens, word)
        high = bisect_left(index.tokens, word + _PREFIX_END, lo=low)
        found = index.token_keys[low:high]
        candidates = set(found) if candidates is None else candidates.intersection(found)
        if not candidates:
            return []
    best = heapq.nsmallest(limit, candidates, key=index.rank.__getitem__)
    return [
        AuthorSuggestion(
            name=index.names[i], papers=len(_followed_positions(index, index.names[i]))
        )
        for i in best
    ]


_memo: tuple[str, AuthorIndex] | None = None
_memo_lock = threading.Lock()


def author_index() -> AuthorIndex:
    """The index of the papers held now: this process's copy, the cache's, or a fresh build.

    The latest paper id names the index, so a day's new papers make a new one; a stamp in the
    cache tells a process whether its own copy is still that index (and a cleared cache is
    never outlived by a process's copy).
    """
    global _memo
    latest = Paper.objects.aggregate(latest=Max("id"))["latest"] or 0
    stamp_key = f"authors:index:stamp:{latest}"
    stamp = cache.get(stamp_key)
    memo = _memo
    if stamp is not None and memo is not None and memo[0] == stamp:
        return memo[1]
    index = cache.get(f"authors:index:{stamp}") if stamp is not None else None
    if index is None:
        with _memo_lock:  # one build per process at a time; others wait for it
            stamp = cache.get(stamp_key)
            index = cache.get(f"authors:index:{stamp}") if stamp is not None else None
            if index is None:
                index = author_index_build(_papers_newest_first())
                stamp = uuid.uuid4().hex
                cache.set(f"authors:index:{stamp}", index, INDEX_TTL)
                cache.set(stamp_key, stamp, INDEX_TTL)
    _memo = (stamp, index)
    return index


def _papers_newest_first() -> Iterable[tuple[int, list[str]]]:
    rows = Paper.objects.order_by("-announce_date", "-arxiv_id").values_list("id", "authors")
    for paper_id, authors in rows.iterator(chunk_size=5000):
        yield (
            paper_id,
            [a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)],
        )
