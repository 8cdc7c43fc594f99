"""A chunk's evidence summed, and made relevance, a block of readers at a time.

The scorer (`scores`) gives a chunk's evidence as parts: sparse readers × papers matrices, dense
rows for the readers that have them, the inferred-category prior, the cells an excluded keyword
clears and the damping of replacements. Each cell's parts are added in one fixed order from
zero, so a cell's float32 sum is the same whichever rows are summed together; summing a block
of rows at a time keeps the block in a core's cache from the first part added to the relevance
written, instead of streaming the chunk's whole evidence through memory once per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import _sparsetools

from digests.scoring.signals import PRIOR_ALONE

__all__ = ["BLOCK_CELLS", "ChunkSum", "add_into", "coo_sum", "relevance_of"]

BLOCK_CELLS = 1 << 18  # float32 cells summed at a time: 1 MiB, 131 readers of 2,000 papers


def coo_sum(parts: list[sparse.coo_matrix], shape: tuple[int, int]) -> sparse.coo_matrix:
    """The parts as one matrix whose duplicates add up (nothing summed yet)."""
    if not parts:
        return sparse.coo_matrix(shape, dtype=np.float32)
    return sparse.coo_matrix(
        (
            np.concatenate([p.data for p in parts]),
            (np.concatenate([p.row for p in parts]), np.concatenate([p.col for p in parts])),
        ),
        shape=shape,
    )


def add_into(out: np.ndarray, part: sparse.csr_matrix, start: int = 0) -> None:
    """out += rows start.. of `part` (as many as `out` has), in place, entry by entry in the
    part's order: no sparse sum, no copy.

    Adding parts one after another into zeros adds each cell's values in the same order, from
    the same zero, as one sparse sum of them all would (`coo_sum(...).toarray()`): the same
    float32 sums, bit for bit. scipy's own `toarray(out=...)` zeroes `out` first, so the
    adding kernel it calls is called here directly (a test checks that it adds)."""
    rows, papers = out.shape
    if part.dtype != out.dtype or not out.flags.c_contiguous or papers != part.shape[1]:
        raise ValueError("out must be C-contiguous, of the part's dtype and width")
    if not 0 <= start <= start + rows <= part.shape[0]:
        raise ValueError("rows outside the part")
    indptr = part.indptr[start : start + rows + 1]  # absolute offsets into indices and data
    _sparsetools.csr_todense(rows, papers, indptr, part.indices, part.data, out)


def relevance_of(evidence: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """100 × (1 − e^(−evidence)), rounded, as uint8 (into `out` if given; `evidence` is
    overwritten)."""
    np.maximum(evidence, 0, out=evidence)
    np.negative(evidence, out=evidence)
    np.expm1(evidence, out=evidence)
    evidence *= -100
    np.rint(evidence, out=evidence)
    if out is None:
        return evidence.astype(np.uint8)
    np.copyto(out, evidence, casting="unsafe")
    return out


def _rows_of(matrix: sparse.csr_matrix) -> np.ndarray:
    """Each stored entry's row (the CSR's entries are row by row)."""
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


@dataclass(frozen=True)
class ChunkSum:
    """A chunk's evidence parts, in the order they are added. Rows of the chunk are summed on
    demand (`add_rows`), or all of them as relevance (`relevance`)."""

    parts: list[sparse.csr_matrix]  # readers × papers, float32, added first in this order
    dense: list[tuple[np.ndarray, np.ndarray]]  # then (readers, their rows), in this order
    prior: sparse.csr_matrix | None  # duplicates summed; capped where nothing else scored
    excluded: sparse.csr_matrix  # cells cleared: a keyword the reader excluded is there
    wants_updates: np.ndarray  # readers whose replacements are not damped
    damping: np.ndarray | None  # papers' factors (None: no replacement on the day)
    prior_rows: np.ndarray  # each stored entry's row, of the prior and of the excluded cells
    excluded_rows: np.ndarray

    @classmethod
    def of(
        cls,
        parts: list[sparse.csr_matrix],
        dense: list[tuple[np.ndarray, np.ndarray]],
        prior: sparse.csr_matrix | None,
        excluded: sparse.csr_matrix,
        wants_updates: np.ndarray,
        damping: np.ndarray | None,
    ) -> ChunkSum:
        ordered = []
        for readers, rows in dense:  # by reader, so that a block's readers are one slice
            if (np.diff(readers) < 0).any():
                order = np.argsort(readers, kind="stable")
                readers, rows = readers[order], rows[order]
            ordered.append((readers, rows))
        return cls(
            [p.astype(np.float32) if p.dtype != np.float32 else p for p in parts],
            ordered,
            prior,
            excluded,
            wants_updates,
            damping,
            _rows_of(prior) if prior is not None else np.zeros(0, dtype=np.int64),
            _rows_of(excluded),
        )

    def add_rows(self, start: int, out: np.ndarray) -> None:
        """Rows start.. of the evidence (as many as `out` has) added into `out` (zeros)."""
        stop = start + out.shape[0]
        for part in self.parts:
            add_into(out, part, start)
        for readers, rows in self.dense:
            low, high = np.searchsorted(readers, (start, stop))
            if high > low:
                out[readers[low:high] - start] += rows[low:high]
        if self.prior is not None:  # the prior alone ranks, never qualifies
            first, last = self.prior.indptr[start], self.prior.indptr[stop]
            at = (self.prior_rows[first:last] - start, self.prior.indices[first:last])
            values = self.prior.data[first:last].astype(out.dtype)
            alone = out[at] <= 0
            values[alone] = np.minimum(values[alone], PRIOR_ALONE)
            out[at] += values
        first, last = self.excluded.indptr[start], self.excluded.indptr[stop]
        out[self.excluded_rows[first:last] - start, self.excluded.indices[first:last]] = 0
        if self.damping is not None:
            np.multiply(out, self.damping, out=out, where=~self.wants_updates[start:stop, None])

    def evidence(self, shape: tuple[int, int]) -> np.ndarray:
        """The whole chunk's evidence (readers × papers, float32)."""
        evidence = np.zeros(shape, dtype=np.float32)
        self.add_rows(0, evidence)
        return evidence

    def relevance(self, shape: tuple[int, int]) -> np.ndarray:
        """The chunk's relevance (readers × papers, uint8), summed a block at a time."""
        readers, papers = shape
        relevance = np.empty(shape, dtype=np.uint8)
        block = max(1, min(readers, BLOCK_CELLS // max(papers, 1)))
        buffer = np.empty((block, papers), dtype=np.float32)
        for start in range(0, readers, block):
            out = buffer[: min(block, readers - start)]
            out.fill(0)
            self.add_rows(start, out)
            relevance_of(out, relevance[start : start + len(out)])
        return relevance
