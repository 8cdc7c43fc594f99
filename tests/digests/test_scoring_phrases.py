"""Keyword phrases found in the papers' words for all papers at once: the runs of words they are."""

from __future__ import annotations

import random

import numpy as np
import pytest

from digests.scoring.phrase_match import MAX_PHRASE, phrases_found


def _reference(texts: list[list[str]], ids: dict[str, int]) -> list[set[int]]:
    """Each text's phrases, word run by word run."""
    found = []
    for words in texts:
        runs = {
            " ".join(words[i : i + n])
            for i in range(len(words))
            for n in range(1, MAX_PHRASE + 1)
            if i + n <= len(words)
        }
        found.append({column for phrase, column in ids.items() if phrase in runs})
    return found


@pytest.mark.parametrize("exact", [None, 1, 2, 3])
def test_phrases_found_are_the_runs_of_words_they_are(exact):
    rng = random.Random(5)
    vocabulary = [f"w{k}" for k in range(30)]
    texts = [[rng.choice(vocabulary) for _ in range(rng.randint(0, 40))] for _ in range(60)]
    phrases = {
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 8))) for _ in range(400)
    }
    phrases |= {" ".join(texts[5][3:9]), " ".join(texts[7][:2]), " ".join(texts[9][-3:])}
    phrases.discard("")
    ids = {phrase: column for column, phrase in enumerate(sorted(phrases))}

    matrix = phrases_found(texts, ids, exact=exact)

    expected = _reference(texts, ids)
    assert matrix.shape == (len(texts), len(ids)) and matrix.dtype == np.float32
    assert [set(matrix[row].indices.tolist()) for row in range(len(texts))] == expected
    assert matrix.has_canonical_format and np.all(matrix.data == 1)
    assert any(len(p.split()) == 6 and ids[p] in e for p in ids for e in expected)  # long runs
    seven = [p for p in ids if len(p.split()) > MAX_PHRASE]
    assert seven and all(ids[p] not in matrix.indices for p in seven)  # never found


def test_no_phrases_or_no_words():
    assert phrases_found([["a", "b"], []], {}).shape == (2, 1)
    assert phrases_found([[], []], {"a b": 0}).nnz == 0
    assert phrases_found([], {"a": 0}).shape == (0, 1)
