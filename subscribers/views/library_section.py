"""The profile editor's "Your library" section: what the imports found, a page at a time, and
the Zotero link. Three queries whatever the library's size (two when it is empty)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from subscribers.forms import LibraryUploadForm, ZoteroConnectForm
from subscribers.models import LibraryEntry, Subscriber, ZoteroLink

__all__ = ["PAGE_SIZE", "LibraryPage", "library_context", "library_page"]

PAGE_SIZE = 50  # entries listed a page, each with its drop button


@dataclass
class LibraryPage:
    arxiv: int = 0
    text: int = 0
    lookup: int = 0
    dropped: int = 0
    number: int = 1
    entries: list[LibraryEntry] = field(default_factory=list)
    zotero: ZoteroLink | None = None

    @property
    def total(self) -> int:
        """Entries that shape the profile (the dropped ones are only remembered)."""
        return self.arxiv + self.text + self.lookup

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))

    @property
    def first(self) -> int:
        """The rank of the page's first entry (1-based)."""
        return (self.number - 1) * PAGE_SIZE + 1


def _page_number(value: Any) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def library_page(subscriber: Subscriber, *, number: Any = 1) -> LibraryPage:
    """The reader's library: counts by state, the entries of page `number` (newest first; a
    page past the end shows the last), and their Zotero link without its sealed key."""
    page = LibraryPage()
    counts = (
        LibraryEntry.objects.filter(subscriber=subscriber)
        .values_list("state", "dropped")
        .order_by()
        .annotate(n=Count("pk"))
    )
    for state, dropped, n in counts:
        if dropped:
            page.dropped += n
        elif state in (
            LibraryEntry.State.ARXIV,
            LibraryEntry.State.TEXT,
            LibraryEntry.State.LOOKUP,
        ):
            setattr(page, str(state), getattr(page, str(state)) + n)
    page.number = min(_page_number(number), page.pages)
    if page.total:
        start = (page.number - 1) * PAGE_SIZE
        listed = LibraryEntry.objects.filter(subscriber=subscriber, dropped=False).only(
            "pk", "source", "state", "arxiv_id", "doi", "title", "added_at"
        )
        page.entries = list(listed[start : start + PAGE_SIZE])
    page.zotero = (
        ZoteroLink.objects.filter(subscriber=subscriber).defer("api_key_encrypted").first()
    )
    return page


def library_context(
    subscriber: Subscriber,
    *,
    number: Any = 1,
    upload_form: LibraryUploadForm | None = None,
    zotero_form: ZoteroConnectForm | None = None,
) -> dict[str, Any]:
    """What `profile_library.html` reads; the forms given carry a failed post's errors."""
    page = library_page(subscriber, number=number)
    if zotero_form is None:
        initial = {}
        if page.zotero is not None:
            initial = {
                "user_id": page.zotero.user_id,
                "include": page.zotero.collections_include,
                "ignore": page.zotero.collections_ignore,
            }
        zotero_form = ZoteroConnectForm(initial=initial)
    return {
        "library": page,
        "library_form": upload_form or LibraryUploadForm(),
        "zotero_form": zotero_form,
    }
