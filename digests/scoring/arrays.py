"""Small integer-array helpers the scorer's modules share."""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["binary_rows", "unique_sorted"]


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """`np.unique` of integers, sorted (a sort and a mask: numpy's own hashes, many times
    slower on the few thousand values of a chunk)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def binary_rows(cells: np.ndarray, n: int, width: int) -> sparse.csr_matrix:
    """A binary n × width matrix (canonical CSR, float32) from its cells as row × width +
    column, sorted and each once (`unique_sorted`)."""
    rows, columns = np.divmod(cells, width)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sparse.csr_matrix(
        (np.ones(len(cells), dtype=np.float32), columns, indptr), shape=(n, width)
    )
