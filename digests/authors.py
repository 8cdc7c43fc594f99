"""Authors of the ingested papers: name suggestions and each author's papers, newest first.

Both read one in-memory index of every paper's authors, keyed as `digests.scoring.matching`
keys names (so "L. Mazzaschi" meets "Lorenzo Mazzaschi" the way the scorer lets it). Scanning the
authors of 100k papers takes seconds, so the index is built once per batch of new papers:
shared through the Django cache (Redis when configured) and kept in each process; a request
costs one indexed query (the latest paper id) and a dictionary-free binary search.
"""

from __future__ import annotations

import heapq
import re
import uuid
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Max

from digests.models import Paper
from digests.scoring.matching import author_keys_followed, author_keys_written, fold

__all__ = [
    "AuthorIndex",
    "AuthorSuggestion",
    "author_index",
    "author_index_build",
    "author_index_refresh",
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

    Flat arrays (a key's slice of `positions`, a token's slice of `token_keys`), not dicts of
    sets: compact to keep in each process and quick to pickle.
    """

    paper_ids: array  # recency position → paper id, newest first
    keys: list[str]  # sorted author keys ("f:lorenzo mazzaschi", "i:l mazzaschi")
    names: list[str]  # per key: its most common spelling
    starts: array  # per key: where its positions begin in `positions` (len(keys) + 1 entries)
    positions: array  # recency positions, ascending within each key
    rank: array  # per key: 0 for the author with most papers, 1 for the next…
    tokens: list[str]  # sorted distinct name parts of every spelling
    token_starts: array  # per token: where its keys begin in `token_keys`
    token_keys: array  # key numbers

    def key_positions(self, key: str) -> array:
        i = bisect_left(self.keys, key)
        if i == len(self.keys) or self.keys[i] != key:
            return array("I")
        return self.positions[self.starts[i] : self.starts[i + 1]]

    def prefix_keys(self, prefix: str) -> set[int]:
        """The keys with a name part starting with `prefix`."""
        low = bisect_left(self.tokens, prefix)
        high = bisect_left(self.tokens, prefix + _PREFIX_END, lo=low)
        if low == high:
            return set()
        return set(self.token_keys[self.token_starts[low] : self.token_starts[high]])


def author_index_build(papers: Iterable[tuple[int, list[str]]]) -> AuthorIndex:
    """Index (paper id, author names) pairs given newest first.

    Work per distinct spelling (folding, keys, tokens) is done once: most of 100k papers'
    author slots repeat a spelling already seen.
    """
    paper_ids = array("q")
    by_key: dict[str, list[int]] = {}
    written: dict[str, tuple[str, ...]] = {}  # spelling → its keys
    slots: dict[str, int] = {}  # spelling → papers written so
    for position, (paper_id, names) in enumerate(papers):
        paper_ids.append(paper_id)
        for name in names:
            keys = written.get(name)
            if keys is None:
                keys = written[name] = tuple(author_keys_written(name))
                slots[name] = 0
            slots[name] += 1
            for key in keys:
                held = by_key.get(key)
                if held is None:
                    by_key[key] = [position]
                elif held[-1] != position:  # a name twice on one paper counts once
                    held.append(position)
    sorted_keys = sorted(by_key)
    number = {key: i for i, key in enumerate(sorted_keys)}
    spellings: list[list[str]] = [[] for _ in sorted_keys]
    for name, name_keys in written.items():
        for key in name_keys:
            spellings[number[key]].append(name)
    names = [_usual_spelling(found, slots).strip() for found in spellings]
    starts, positions = array("I", [0]), array("I")
    for key in sorted_keys:
        positions.extend(by_key[key])
        starts.append(len(positions))
    order = sorted(range(len(sorted_keys)), key=lambda i: (-len(by_key[sorted_keys[i]]), names[i]))
    rank = array("I", bytes(4 * len(sorted_keys)))
    for place, i in enumerate(order):
        rank[i] = place
    by_token: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(sorted_keys):
        tokens = set(key[2:].split())
        for name in spellings[i]:
            tokens.update(name_tokens(name))
        for token in tokens:
            by_token[token].append(i)
    sorted_tokens = sorted(by_token)
    token_starts, token_keys = array("I", [0]), array("I")
    for token in sorted_tokens:
        token_keys.extend(by_token[token])
        token_starts.append(len(token_keys))
    return AuthorIndex(
        paper_ids=paper_ids,
        keys=sorted_keys,
        names=names,
        starts=starts,
        positions=positions,
        rank=rank,
        tokens=sorted_tokens,
        token_starts=token_starts,
        token_keys=token_keys,
    )


def _usual_spelling(spellings: list[str], slots: dict[str, int]) -> str:
    """The most written form, preferring one without TeX accents ("Hajdu\\v{s}ek")."""
    return max(spellings, key=lambda name: ("\\" not in name, slots[name]))


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
        found = index.prefix_keys(word)
        candidates = found if candidates is None else candidates & found
        if not candidates:
            return []
    assert candidates is not None  # there was at least one word
    best = heapq.nsmallest(limit, candidates, key=index.rank.__getitem__)
    return [
        AuthorSuggestion(
            name=index.names[i], papers=len(_followed_positions(index, index.names[i]))
        )
        for i in best
    ]


BUILD_TIMEOUT = 300  # seconds another process waits on a build before trying its own
_DATA_KEY = "authors:index:data"  # (stamp, index): one copy only, however often rebuilt
BUILD_LOCK_KEY = "authors:index:building"
_memo: tuple[str, AuthorIndex] | None = None  # this process's copy of the cache's data


def _stamp_key(latest: int) -> str:
    return f"authors:index:stamp:{latest}"


def _latest_paper_id() -> int:
    return Paper.objects.aggregate(latest=Max("id"))["latest"] or 0


def author_index() -> AuthorIndex:
    """The index of the papers held now: this process's copy, the cache's, or a fresh build.

    The latest paper id names the index, so a day's new papers make a new one; a stamp in the
    cache tells a process whether its copy is still current (a cleared cache is never outlived
    by a process's copy). While one request rebuilds, the others are served the last index.
    """
    global _memo
    latest = _latest_paper_id()
    stamp = cache.get(_stamp_key(latest))
    if stamp is not None:
        held = _memo if _memo is not None and _memo[0] == stamp else cache.get(_DATA_KEY)
        if held is not None and held[0] == stamp:
            _memo = held
            return held[1]
    if cache.add(BUILD_LOCK_KEY, 1, BUILD_TIMEOUT):
        try:
            return author_index_refresh(latest=latest)
        finally:
            cache.delete(BUILD_LOCK_KEY)
    stale = _memo or cache.get(_DATA_KEY)
    return stale[1] if stale is not None else author_index_refresh(latest=latest)


def author_index_refresh(*, latest: int | None = None) -> AuthorIndex:
    """Build the index of the papers held now and share it through the cache.

    Seconds on 100k papers: worth calling once new papers are ingested, so that no reader
    waits for it.
    """
    global _memo
    latest = _latest_paper_id() if latest is None else latest
    index = author_index_build(_papers_newest_first())
    stamp = uuid.uuid4().hex
    cache.set(_DATA_KEY, (stamp, index), None)
    cache.set(_stamp_key(latest), stamp, INDEX_TTL)
    _memo = (stamp, index)
    return index


def _papers_newest_first() -> Iterable[tuple[int, list[str]]]:
    announced = Paper.objects.filter(announce_date__isnull=False)  # not papers fetched as seeds
    rows = announced.order_by("-announce_date", "-arxiv_id").values_list("id", "authors")
    for paper_id, authors in rows.iterator(chunk_size=5000):
        yield (
            paper_id,
            [a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)],
        )
