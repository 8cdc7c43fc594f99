"""Sparse products `a @ b` by scipy's own kernel, without the pass that counts their entries.

scipy computes a CSR × CSR product in two passes over the same work: one counts the product's
entries (`csr_matmat_maxnnz`), to allocate them exactly; the other computes them (`csr_matmat`).
On the scorer's products (readers × vocabulary @ vocabulary × papers) the counting pass costs a
third of the product. `product` bounds each row's entries instead, by what its entries can reach
(the rows of `b` they select, at most `b`'s width), with numpy, and calls the computing kernel
alone: the same kernel on the same arrays, so the same entries in the same order, bit for bit.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import _sparsetools

__all__ = ["product"]

INT32_MAX = np.iinfo(np.int32).max


def _bound(a: sparse.csr_matrix, b: sparse.csr_matrix) -> int:
    """The most entries `a @ b` can have: each row of `a`, the entries of the rows of `b` its
    entries select, at most `b`'s width."""
    reach = np.diff(b.indptr)[a.indices[: a.indptr[-1]]]
    before = np.zeros(len(reach) + 1, dtype=np.int64)
    np.cumsum(reach, out=before[1:])
    per_row = before[a.indptr[1:]] - before[a.indptr[:-1]]
    return int(np.minimum(per_row, b.shape[1]).sum())


def product(a: sparse.csr_matrix, b: sparse.csr_matrix) -> sparse.csr_matrix:
    """`a @ b` of two CSR matrices: the same matrix as scipy's product (its entries in the
    kernel's order, not sorted), computed in one pass."""
    if not (sparse.isspmatrix_csr(a) and sparse.isspmatrix_csr(b)):
        raise ValueError("product takes two CSR matrices")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"inconsistent shapes {a.shape} and {b.shape}")
    m, n = a.shape[0], b.shape[1]
    bound = _bound(a, b)
    wide = max(bound, m, n, a.shape[1], int(a.indptr[-1]), int(b.indptr[-1])) > INT32_MAX
    index = np.int64 if wide else np.int32
    indptr = np.empty(m + 1, dtype=index)
    indices = np.empty(bound, dtype=index)
    dtype = np.result_type(a.dtype, b.dtype)  # as scipy's `upcast`
    data = np.empty(bound, dtype=dtype)
    _sparsetools.csr_matmat(
        m,
        n,
        a.indptr.astype(index, copy=False),
        a.indices.astype(index, copy=False),
        a.data.astype(dtype, copy=False),
        b.indptr.astype(index, copy=False),
        b.indices.astype(index, copy=False),
        b.data.astype(dtype, copy=False),
        indptr,
        indices,
        data,
    )
    nnz = int(indptr[-1])
    if nnz < bound // 2:  # what scipy would copy anyway (a view of a much larger array)
        indices, data = indices[:nnz].copy(), data[:nnz].copy()
    return sparse.csr_matrix((data[:nnz], indices[:nnz], indptr), shape=(m, n))
