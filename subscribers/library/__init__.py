"""The reader's library as seed papers: imported files (BibTeX, RIS, CSL-JSON, lists of ids)
and Zotero. Reading formats (`formats`, `entries`), storing and what the scorer reads (`store`),
Zotero's web API (`zotero`), the sealed API key (`secret`)."""

from subscribers.library.entries import Entry, title_key
from subscribers.library.formats import (
    MAX_BYTES,
    LibraryFile,
    LibraryFileError,
    Rejected,
    library_file_read,
)
from subscribers.library.store import (
    LIBRARY_SEEDS,
    LibraryReport,
    LibrarySeed,
    LibrarySummary,
    LookupUnavailable,
    library_arxiv_ids,
    library_drop,
    library_import,
    library_seeds,
    library_summary,
)
from subscribers.models import LibraryEntry, ZoteroLink

__all__ = [
    "LIBRARY_SEEDS",
    "MAX_BYTES",
    "Entry",
    "LibraryEntry",
    "LibraryFile",
    "LibraryFileError",
    "LibraryReport",
    "LibrarySeed",
    "LibrarySummary",
    "LookupUnavailable",
    "Rejected",
    "ZoteroLink",
    "library_arxiv_ids",
    "library_drop",
    "library_file_read",
    "library_import",
    "library_seeds",
    "library_summary",
    "title_key",
]
