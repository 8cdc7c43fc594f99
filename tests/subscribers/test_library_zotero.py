"""Zotero sync through pyzotero against a local stand-in answering in Zotero's recorded format:
items become library entries, collections filter them, the key is sealed and never logged, and
a refused key is said plainly and stores nothing."""

from __future__ import annotations

import logging

import pytest

from subscribers.library import LibraryEntry, ZoteroLink
from subscribers.library.secret import secret_open
from subscribers.library.zotero import ZoteroRefused, zotero_connect, zotero_sync
from tests.factories import make_subscriber
from tests.subscribers.library_stand_ins import (
    ZOTERO_KEY,
    ZOTERO_USER,
    zotero_item,
    zotero_serving,
)

USER, KEY = ZOTERO_USER, ZOTERO_KEY


def _items() -> list[dict]:
    return [
        zotero_item(USER, "AAAA1111", {
            "itemType": "preprint", "title": "Is Conditional Generative Modeling all you need?",
            "archiveID": "arXiv:2211.15657", "url": "http://arxiv.org/abs/2211.15657",
            "dateAdded": "2022-12-13T10:00:00Z", "collections": ["RLCOLL1"],
        }),
        zotero_item(USER, "BBBB2222", {
            "itemType": "journalArticle", "title": "Waste Not, Want Not", "DOI":
            "10.1371/journal.pcbi.1003531", "dateAdded": "2023-09-12T00:16:04Z",
            "collections": ["BIOCOLL2"],
        }),
        zotero_item(USER, "CCCC3333", {"itemType": "note", "title": ""}),
    ] + [
        zotero_item(USER, f"PAGE{i:04d}", {
            "itemType": "book", "title": f"Book {i}", "dateAdded": "2015-07-15T15:45:43Z",
        })
        for i in range(30)
    ]  # fmt: skip


@pytest.fixture
def zotero(settings):
    with zotero_serving(settings, _items()) as server:
        yield server


@pytest.mark.django_db
def test_a_zotero_library_is_read_its_key_sealed_and_never_logged(zotero, caplog) -> None:
    reader = make_subscriber()
    caplog.set_level(logging.DEBUG)
    report = zotero_connect(
        subscriber=reader, user_id=USER, api_key=KEY, include=[], ignore=["Microbiome"]
    )
    assert (report.arxiv, report.text, report.lookup) == (1, 30, 0)
    entry = LibraryEntry.objects.get(arxiv_id="2211.15657")
    assert (entry.source, entry.zotero_key) == ("zotero", "AAAA1111")
    assert entry.added_at.isoformat() == "2022-12-13T10:00:00+00:00"
    link = ZoteroLink.objects.get(subscriber=reader)
    assert KEY not in link.api_key_encrypted and secret_open(link.api_key_encrypted) == KEY
    assert KEY not in caplog.text

    zotero.items = zotero.items[:1]  # the reader deleted everything else in Zotero
    zotero_sync(link)
    assert list(LibraryEntry.objects.values_list("zotero_key", flat=True)) == ["AAAA1111"]


@pytest.mark.django_db
def test_a_refused_key_is_said_plainly_and_stores_nothing(zotero) -> None:
    reader = make_subscriber()
    with pytest.raises(ZoteroRefused, match="Zotero refused this API key"):
        zotero_connect(subscriber=reader, user_id=USER, api_key="wrong", include=[], ignore=[])
    assert not ZoteroLink.objects.exists() and not LibraryEntry.objects.exists()
