"""Which of the readers' keyword phrases each paper holds, found for all papers at once.

A phrase is found in a text where its words (stems) appear in a row. Each word of a phrase is
numbered, each text's words by those numbers (-1: in no phrase), and each run of n words as
one integer (base: the number of words), so that the day's ~400,000 positions are compared with
the phrases of each length by a sort, not word by word in Python. Runs of more words than the
integers hold exactly are compared as strings, at the few positions where such a phrase starts.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import chain, repeat

import numpy as np
from scipy import sparse

from digests.scoring.arrays import binary_rows, unique_sorted

__all__ = ["phrases_found"]

MAX_PHRASE = 6  # words: a longer phrase is never found (the index's rule)


def phrases_found(
    texts: list[list[str]],
    ids: dict[str, int],
    *,
    exact: int | None = None,
    width: int | None = None,
) -> sparse.csr_matrix:
    """A binary texts × phrases matrix (canonical CSR, float32): the phrases of `ids` (space-
    joined words → column) that each text (its words) holds as a run of words. `exact`: the
    longest runs compared as integers (default: as many words as an int64 holds); `width`: the
    matrix's columns (default: one per phrase; more when `ids` are some of a vocabulary's)."""
    n, m = len(texts), max(width or len(ids), 1)
    phrase_words = " ".join(ids).split(" ") if ids else []
    numbers = {word: k for k, word in enumerate(dict.fromkeys(phrase_words))}
    base = max(len(numbers), 1)
    exact = min(MAX_PHRASE, exact or max(1, int(62 // np.log2(base + 1))))  # in an int64
    sizes = np.fromiter(map(str.count, ids, repeat(" ")), dtype=np.int64, count=len(ids)) + 1
    starts = np.cumsum(sizes) - sizes
    phrase_coded = np.fromiter(map(numbers.__getitem__, phrase_words), dtype=np.int64)
    columns_all = np.fromiter(ids.values(), dtype=np.int64, count=len(ids))

    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    words = list(chain.from_iterable(texts))
    total = len(words)
    coded = np.fromiter(map(numbers.get, words, repeat(-1)), dtype=np.int64, count=total)
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
    end = np.cumsum(lengths)[owner] if n else owner  # where each position's text ends
    cells = [np.zeros(0, dtype=np.int64)]
    run = np.zeros(total, dtype=np.int64)
    valid = np.ones(total, dtype=bool)
    phrase_code = np.zeros(len(ids), dtype=np.int64)
    for size in range(1, exact + 1):
        last = np.arange(size - 1, total + size - 1)  # each run's last position
        inside = last < end
        following = np.where(inside, coded[np.minimum(last, max(total - 1, 0))], -1)
        valid &= following >= 0
        run = run * base + np.maximum(following, 0)
        longer = sizes >= size
        phrase_code[longer] = phrase_code[longer] * base + phrase_coded[starts[longer] + size - 1]
        of_size = sizes == size
        if not of_size.any() or not total:
            continue
        codes, columns = phrase_code[of_size], columns_all[of_size]
        order = np.argsort(codes)
        codes, columns = codes[order], columns[order]
        at = np.flatnonzero(valid)
        slot = np.minimum(np.searchsorted(codes, run[at]), len(codes) - 1)
        hit = codes[slot] == run[at]
        cells.append(owner[at[hit]] * m + columns[slot[hit]])
    if (sizes > exact).any():
        cells.append(_longer(texts, ids, sizes, exact, m))
    return binary_rows(unique_sorted(np.concatenate(cells)), n, m)


def _longer(
    texts: list[list[str]], ids: dict[str, int], sizes: np.ndarray, exact: int, m: int
) -> np.ndarray:
    """The cells of the phrases too long for an integer, compared as strings where they start
    (a phrase of more than MAX_PHRASE words is never found)."""
    known = {
        phrase: column
        for (phrase, column), size in zip(ids.items(), sizes.tolist(), strict=True)
        if exact < size <= MAX_PHRASE
    }
    starts: dict[str, set[int]] = defaultdict(set)
    for phrase in known:
        words = phrase.split(" ")
        starts[words[0]].add(len(words))
    cells = []
    for row, words in enumerate(texts):
        for i in [i for i, word in enumerate(words) if word in starts]:
            for size in starts[words[i]]:
                column = known.get(" ".join(words[i : i + size]))
                if column is not None:
                    cells.append(row * m + column)
    return np.array(cells, dtype=np.int64)
