"""A seed paper as the reader types it: an arXiv id or link, or a bioRxiv/medRxiv DOI or link,
normalised to the id papers are stored under (no version; a DOI in lower case)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from subscribers.profile_fields import ARXIV_ID_RE, PREPRINT_DOI_RE

__all__ = ["arxiv_id_normalise", "seed_id_normalise"]

_ARXIV_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<id>.+?)(?:\.pdf)?/?$",
    re.IGNORECASE,
)
# A preprint DOI, bare, as doi:… or a link to doi.org or to its page on bioRxiv or medRxiv.
_PREPRINT_DOI = re.compile(
    r"^(?:doi:\s*|(?:https?://)?(?:dx\.)?doi\.org/|(?:https?://)?(?:www\.)?(?:bio|med)rxiv\.org/"
    r"content/)?(?P<doi>10\.\d{4,9}/[^\s/?#]+?)(?:v\d+)?(?:\.(?:full|abstract|full\.pdf|"
    r"full-text|supplementary-material))?/?$",
    re.IGNORECASE,
)


def arxiv_id_normalise(value: str) -> str:
    """An arXiv id or URL → the id without version: ".../abs/2406.12345v2" → "2406.12345"."""
    text = value.strip()
    if match := _ARXIV_URL.match(text):
        text = match["id"]
    text = re.sub(r"^arxiv:", "", text, flags=re.IGNORECASE)
    if not ARXIV_ID_RE.match(text):
        raise ValidationError(
            _("“%(value)s” is not an arXiv id or link (e.g. 2406.12345 or hep-th/9901001)."),
            code="arxiv_id",
            params={"value": value[:80]},
        )
    return re.sub(r"v\d+$", "", text)


def seed_id_normalise(value: str) -> str:
    """A seed paper: an arXiv id or link (see `arxiv_id_normalise`), or a bioRxiv/medRxiv DOI
    or link → the DOI in lower case without version: "…/content/10.1101/2024.01.02.573921v2"
    → "10.1101/2024.01.02.573921"."""
    if (match := _PREPRINT_DOI.match(value.strip())) and PREPRINT_DOI_RE.match(
        doi := match["doi"].lower()
    ):
        return doi
    try:
        return arxiv_id_normalise(value)
    except ValidationError:
        raise ValidationError(
            _(
                "“%(value)s” is neither an arXiv id or link nor a bioRxiv/medRxiv DOI "
                "(e.g. 2406.12345 or 10.1101/2024.01.02.573921)."
            ),
            code="seed_id",
            params={"value": value[:80]},
        ) from None
