"""Each reader's k most relevant papers, as one stable descending sort would order them.

A full sort of every reader's row costs far more than the few papers a digest takes. With uint8
relevance, a row's papers are dealt into 2k blocks: the k-th largest of their maxima is a floor
that at least k of its papers reach (k disjoint blocks each hold one), so only the papers at or
above it can be among the k best; they are ordered by one small sort of (255 − relevance, paper)
keys. Rows where the floor keeps too many papers (ties, a row all zero) are sorted whole. The
result is exactly the stable sort's: best first, the lower index first among equals.
"""

from __future__ import annotations

import numpy as np

__all__ = ["top_papers"]

KEPT = 64  # candidates per row sorted as keys; rows with more are sorted whole


def _sorted_whole(relevance: np.ndarray, k: int) -> np.ndarray:
    """The reference: one stable sort of each row (a radix sort on uint8 relevance)."""
    if relevance.dtype != np.uint8:
        order = np.argsort(-relevance, axis=1, kind="stable")
    else:
        order = np.argsort(np.subtract(255, relevance, dtype=np.uint8), axis=1, kind="stable")
    return order[:, :k]


def _block_maxima(relevance: np.ndarray, blocks: int) -> np.ndarray:
    """Each row's maximum in each of `blocks` disjoint blocks of papers (block j: papers j,
    j + blocks, j + 2·blocks, …), halving the blocks' length with whole-array maxima."""
    readers, papers = relevance.shape
    folded = relevance[:, : papers // blocks * blocks].reshape(readers, -1, blocks)
    while folded.shape[1] > 1:
        half = folded.shape[1] // 2
        odd = folded[:, 2 * half :]
        folded = np.maximum(folded[:, :half], folded[:, half : 2 * half])
        if odd.shape[1]:
            np.maximum(folded[:, :1], odd, out=folded[:, :1])
    return folded[:, 0]


def top_papers(relevance: np.ndarray, k: int) -> np.ndarray:
    """Each reader's `k` most relevant papers (readers × k), best first, the lower index first
    among equals (as `_sorted_whole`, without sorting whole rows)."""
    readers, papers = relevance.shape
    k = min(k, papers)
    if relevance.dtype != np.uint8 or not 0 < k <= KEPT or papers < 8 * k or papers >= 2**23:
        return _sorted_whole(relevance, k)
    blocks = 2 * k
    maxima = _block_maxima(relevance, blocks)
    floor = np.partition(maxima, blocks - k, axis=1)[:, blocks - k]
    flat = np.flatnonzero(relevance >= floor[:, None])  # row by row, columns ascending
    rows = flat // papers
    counts = np.bincount(rows, minlength=readers)
    narrow = counts <= KEPT
    if not narrow.all():  # the wide rows' papers are left out (sorted whole below)
        inside = narrow[rows]
        flat, rows = flat[inside], rows[inside]
    columns = flat - rows * papers
    starts = np.zeros(readers + 1, dtype=np.int64)
    np.cumsum(np.where(narrow, counts, 0), out=starts[1:])
    slot = np.arange(len(rows)) - starts[rows]
    bits = int(papers - 1).bit_length()
    keys = np.full((readers, KEPT), np.iinfo(np.int32).max, dtype=np.int32)
    keys[rows, slot] = (255 - np.ravel(relevance)[flat].astype(np.int32)) << bits | columns
    keys.sort(axis=1)
    top = (keys[:, :k] & ((1 << bits) - 1)).astype(np.intp)
    wide = np.flatnonzero(~narrow)
    if len(wide):
        top[wide] = _sorted_whole(relevance[wide], k)
    return top
