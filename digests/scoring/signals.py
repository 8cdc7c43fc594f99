"""The signals a score adds up, and how much evidence each gives: the scorer's only constants.

Each signal gives evidence (topic hits, keywords in title and abstract, followed authors,
institutions, categories, similarity to free-text interests and seed papers, embeddings,
feedback); the evidence adds up and relevance = 100 × (1 − e^(−evidence)).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "CAPS",
    "EMBEDDING_FLOOR",
    "PRIOR_ALONE",
    "PRIOR_WHEN_NAMED",
    "REPLACEMENT_FACTOR",
    "SEMANTIC_FLOOR",
    "TEXT_FLOOR",
    "WEIGHTS",
    "Signal",
]


class Signal(IntEnum):
    """Where a paper's evidence comes from. Of equal shares, the first in this order leads."""

    AUTHOR = 0  # followed authors
    KEYWORD = 1  # keywords in the title and the abstract
    TOPIC = 2  # followed topics (and their sub-topics)
    INSTITUTION = 3  # followed institutions
    TEXT = 4  # words of the free-text interests and seed papers
    EMBEDDING = 5  # closeness of the interests', seed and liked papers' embeddings
    FEEDBACK_MORE = 6  # like the papers the reader asked more of
    FEEDBACK_LESS = 7  # like the papers the reader asked less of (negative)
    CATEGORY = 8  # arXiv categories, primary or cross-listed
    SEMANTIC = 9  # closeness of free text, seed and liked papers by the in-process model
    PRIOR = 10  # the categories the reader seems to read (inferred), by their weight


# Evidence per signal; relevance = 100 (1 - exp(-evidence)): 0.5 → 39, 1 → 63, 2 → 86.
WEIGHTS = {
    "author": 2.0,
    "keyword_title": 1.0,
    "keyword_abstract": 0.55,
    "topic": 1.1,
    "institution": 0.9,
    "category_primary": 0.18,
    "category_cross": 0.08,
    # An inferred category at weight 1 ranks a reader's own field first, yet alone (26; 29 at
    # most with cross-lists, see CAPS) stays below the default minimum relevance (30). A paper
    # listed in two fields the reader seems to read gets up to 0.2 more: for a reader between
    # two fields, that pair is the best sign a paper is theirs. Alone, the prior stays below 30
    # (PRIOR_ALONE): it ranks what something else found, it never qualifies a paper by itself.
    "prior_primary": 0.3,
    "prior_cross": 0.12,
    "prior_pair": 0.2,
    "text": 2.5,
    "embedding": 3.0,
    "semantic": 2.0,
    "feedback_more": 3.0,
    "feedback_less": 2.5,
}
# Most matches counted per paper: followed authors on it, keyword phrases in its title and
# abstract, the sum of its followed topics' hits (each 0..1), its followed categories.
CAPS = {
    "author": 1.5,
    "keyword_title": 2,
    "keyword_abstract": 3,
    "topic": 1.4,
    "category_primary": 1,
    "category_cross": 1,
    "prior": 1.13,  # inferred categories, primary and cross-lists: at most 0.34 (29)
    "prior_pair": 1.0,  # pairs of inferred categories a paper is listed in: at most 0.2 more
}
PRIOR_ALONE = 0.34  # the prior's evidence where no other signal scored: 29, below 30
# A reader who names categories has said what they read: the inferred ones only fill in.
PRIOR_WHEN_NAMED = 0.4
TEXT_FLOOR = 0.1  # normalised BM25 (1 ≈ every query term once) below this is noise
EMBEDDING_FLOOR = 0.3  # embedding cosines run higher: below this, unrelated
SEMANTIC_FLOOR = 0.3  # the in-process model's cosine below this: unrelated
REPLACEMENT_FACTOR = 0.6  # replacements rank below new papers unless the reader wants updates
