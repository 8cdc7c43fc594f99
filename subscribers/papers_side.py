"""What the reader's side needs from the papers' side, declared here and provided by `digests`.

The dependencies point one way: `digests` uses `subscribers`' models, and `subscribers` imports
nothing from `digests`. Where a reader's page needs the papers' side (the topic catalogue, arXiv's
category names, the profile editor's live preview, the digests in a data export), it asks this
interface, which `DigestsConfig.ready` fills in at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.db.models import Model

    from subscribers.models import Subscriber

__all__ = ["PapersSide", "papers_side", "papers_side_provide"]


@dataclass(frozen=True)
class PapersSide:
    topic_model: type[Model]
    """The topic catalogue's model (`InterestProfile.topics` points at it)."""
    category_known: Callable[[str], bool]
    """Whether a category code names a real category of a source (e.g. arXiv's `cs.CL`)."""
    profile_preview: Callable[..., Any]
    """The digest a draft profile would have received for the last announcement day."""
    personal_data: Callable[[Subscriber], dict[str, Any]]
    """The reader's rows on the papers' side (digests, items, deliveries, feedback) as JSON data."""
    seeds_status: Callable[[Iterable[str]], list[Any]]
    """Each seed paper's lookup: `.arxiv_id`, `.state` ("found", "missing", "pending"), `.title`."""
    seeds_lookup: Callable[[Iterable[str]], None]
    """Queue the arXiv lookup of these seed papers, once the current transaction commits."""
    categories_inferred: Callable[[Subscriber], dict[str, float]]
    """The arXiv categories the reader seems to read and does not name (code → weight 0–1),
    inferred from their free text, seed and liked papers; dropped ones left out."""
    library_lookup: Callable[..., Any]
    """Look the readers' library DOIs up on arXiv now (`subscriber_ids=`, `progress=`); a
    report with `.resolved` and `.summary()`. Raises when arXiv stays unavailable."""
    library_lookup_queue: Callable[[Iterable[int]], None]
    """Queue that lookup for these readers once the current transaction commits."""


_provided: PapersSide | None = None


def papers_side_provide(side: PapersSide) -> None:
    global _provided
    _provided = side


def papers_side() -> PapersSide:
    if _provided is None:
        raise ImproperlyConfigured("no papers side: add 'digests' to INSTALLED_APPS")
    return _provided
