"""Normalising text, names and institutions so that variants meet.

Keywords match whole words after stemming ("distilled" meets "distillation"'s stem only if the
stems agree; "RL" never meets "URL"); author names match on first and last name, folding
diacritics and dropping middle names, and an initial only meets an initial ("Y. Yang" on a paper
meets a reader who follows "Yongjin Yang", but a reader following "Y. Yang" is not flooded with
every Yi, Yu and Yan Yang).
"""

from __future__ import annotations

import re
import unicodedata

import snowballstemmer

__all__ = [
    "abbreviation_forms",
    "author_keys_followed",
    "author_keys_written",
    "fold",
    "institution_tokens",
    "phrase_stems",
    "phrase_variants",
    "stems",
]

_WORD = re.compile(r"[A-Za-z0-9]+")
_ACRONYM_PLURAL = re.compile(r"[A-Z0-9]{2,}s")
_STEMMER = snowballstemmer.stemmer("english")
_INSTITUTION_STOPWORDS = {"of", "the", "and", "at", "for", "in", "de", "des", "di", "du", "la"}
_INSTITUTION_ALIASES = {"univ": "university", "inst": "institute", "tech": "technology"}


# TeX accents as arXiv's feeds still write some names: Hajdu\v{s}ek, Garc\'ia, {\"o}.
_TEX_ACCENT = re.compile(r"""\\[`'^"~=.uvHckrbd]\s*\{?\s*([A-Za-z])\s*\}?""")


def fold(text: str) -> str:
    """Diacritics off (Zoë → Zoe, Ğüneş → Gunes, Hajdu\\v{s}ek → Hajdusek); scripts kept."""
    if text.isascii():
        return _TEX_ACCENT.sub(r"\1", text) if "\\" in text else text
    text = _TEX_ACCENT.sub(r"\1", text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_STEMS: dict[str, str] = {}


def stems(text: str) -> list[str]:
    """Whole words, lower-cased and stemmed ("LLMs" → "llm", "distilling" → "distil")."""
    words = _WORD.findall(fold(text))
    cache = _STEMS
    try:
        return [cache[word] for word in words]  # each word stemmed once per process
    except KeyError:
        pass
    found = []
    for word in words:
        stem = cache.get(word)
        if stem is None:
            if len(cache) > 500_000:  # bounded: numbers and ids would grow it forever
                cache.clear()
            plain = word[:-1] if _ACRONYM_PLURAL.fullmatch(word) else word
            stem = cache[word] = _STEMMER.stemWord(plain.lower())
        found.append(stem)
    return found


def phrase_stems(phrase: str) -> str:
    """A keyword as the space-joined stems it must appear as, in order."""
    return " ".join(stems(phrase))


# Close variants researchers use interchangeably: a keyword matches its abbreviation and back.
_ABBREVIATIONS = {
    "reinforcement learning": "RL",
    "large language model": "LLM",
    "language model": "LM",
    "graph neural network": "GNN",
    "reinforcement learning from human feedback": "RLHF",
    "direct preference optimization": "DPO",
    "retrieval augmented generation": "RAG",
    "chain of thought": "CoT",
    "mixture of experts": "MoE",
    "vision language model": "VLM",
    "natural language processing": "NLP",
    "quantum error correction": "QEC",
    "markov chain monte carlo": "MCMC",
    "supervised fine tuning": "SFT",
    "convolutional neural network": "CNN",
}
_VARIANTS: dict[str, set[str]] = {}
for _long, _short in _ABBREVIATIONS.items():
    _pair = {phrase_stems(_long), phrase_stems(_short)}
    for _form in _pair:
        _VARIANTS.setdefault(_form, set()).update(_pair)


def abbreviation_forms() -> dict[str, str]:
    """Each stemmed form of a known abbreviation or its expansion → one key for both."""
    return {
        form: "§" + phrase_stems(short)
        for long, short in _ABBREVIATIONS.items()
        for form in (phrase_stems(long), phrase_stems(short))
    }


def phrase_variants(phrase: str) -> set[str]:
    """The keyword's stems and those of its usual abbreviation or expansion."""
    stemmed = " ".join(stems(phrase))
    if not stemmed:
        return set()
    variants = _VARIANTS.get(stemmed)
    return variants | {stemmed} if variants else {stemmed}


def _name_parts(name: str) -> tuple[str, str] | None:
    name = fold(name).replace(".", " ").strip()
    if "," in name:  # "Yang, Yongjin"
        last, _, first = name.partition(",")
        name = f"{first} {last}"
    parts = [p.replace("-", "").lower() for p in name.split() if p.strip("-")]
    if len(parts) < 2:
        return None
    return parts[0], parts[-1]


def author_keys_written(name: str) -> set[str]:
    """Keys of an author as a paper writes them: the full name, or the initial if that is all."""
    parts = _name_parts(name)
    if parts is None:
        return set()
    first, last = parts
    if len(first) == 1:
        return {f"i:{first} {last}"}
    return {f"f:{first} {last}"}


def author_keys_followed(name: str) -> set[str]:
    """Keys a followed author matches: their full name, and their initial on papers."""
    parts = _name_parts(name)
    if parts is None:
        return set()
    first, last = parts
    keys = {f"i:{first[0]} {last}"}
    if len(first) > 1:
        keys.add(f"f:{first} {last}")
    return keys


def institution_tokens(text: str) -> frozenset[str]:
    """The distinctive words of an institution or affiliation, for containment matching."""
    words = (w.lower() for w in _WORD.findall(fold(text)))
    return frozenset(
        _INSTITUTION_ALIASES.get(w, w) for w in words if w not in _INSTITUTION_STOPWORDS
    )
