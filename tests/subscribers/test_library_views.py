"""The library in the profile editor: upload an export and read the report, bad files refused in
words, entries listed a page at a time and dropped, Zotero connected against a local stand-in in
Zotero's recorded format (a refused key said plainly, never echoed), hostile text escaped."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.utils import timezone

from subscribers.library import MAX_BYTES, LibraryEntry, ZoteroLink
from subscribers.models import Subscriber
from subscribers.session import SESSION_KEY, email_fingerprint
from subscribers.views.library_section import PAGE_SIZE
from tests.conftest import DEMO_DAY
from tests.factories import make_subscriber
from tests.subscribers.library_stand_ins import arxiv_search_start

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "libraries"
BIB = FIXTURES / "piche_zotero_biblatex_excerpt.bib"
RIS = FIXTURES / "patin_zotero_excerpt.ris"
PROFILE, UPLOAD, DROP = "/profile/", "/profile/library/", "/profile/library/drop/"
ZOTERO, ZOTERO_REMOVE = "/profile/library/zotero/", "/profile/library/zotero/remove/"
USER, KEY = "2536190", "Zk3yN0tForLogs99"


def _sign_in(client: Client, subscriber: Subscriber) -> None:
    session = client.session
    session[SESSION_KEY] = {"id": subscriber.pk, "fp": email_fingerprint(subscriber.email)}
    session.save()


@pytest.fixture
def arxiv_search(settings):
    """arXiv's API over HTTP for the lookup the import queues (Celery runs it eagerly here)."""
    server = arxiv_search_start(DEMO_DAY)
    settings.ARXIV_API_URL = f"{server.base_url}/api/query"
    settings.ARXIV_REQUEST_DELAY = 0
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def reader(db, client) -> Subscriber:
    subscriber = make_subscriber(email="piche@example.org")
    _sign_in(client, subscriber)
    return subscriber


def _upload(client: Client, name: str, data: bytes, **extra: str):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data), **extra})


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_real_bibtex_export_is_imported_and_its_report_shown(client, reader, arxiv_search):
    response = _upload(client, "My Library.bib", BIB.read_bytes())

    assert response.status_code == 200
    text = _text(response.content.decode())
    assert (
        "7 entries: 4 arXiv papers found, 0 kept as text, 0 DOIs to look up on arXiv, "
        "0 already in your library, 3 rejected." in text
    )
    assert "18 duplicate of the entry on line 1" in text  # the line, then the reason
    assert (
        sorted(LibraryEntry.objects.filter(subscriber=reader).values_list("state", flat=True))
        == ["arxiv"] * 4
    )
    # the same file again adds nothing
    again = _text(_upload(client, "My Library.bib", BIB.read_bytes()).content.decode())
    assert "4 already in your library" in again
    assert LibraryEntry.objects.count() == 4


def test_dois_are_looked_up_in_the_background_and_the_page_says_so(
    client, reader, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[list[int]] = []
    monkeypatch.setattr(
        "digests.tasks.library_lookup_readers.delay", lambda ids: queued.append(ids)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, "My Library.ris", RIS.read_bytes())

    text = _text(response.content.decode())
    assert "3 entries: 0 arXiv papers found, 1 kept as text, 2 DOIs to look up on arXiv" in text
    assert "The 2 DOIs are being looked up on arXiv in the background" in text
    assert queued == [[reader.pk]]  # a worker's task, not the request's
    editor = _text(client.get(PROFILE).content.decode())
    assert "2 DOIs being looked up on arXiv" in editor


def test_the_lookup_task_runs_and_the_library_shows_what_the_dois_became(
    client, reader, arxiv_search, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly in tests
        _upload(client, "My Library.ris", RIS.read_bytes())

    assert set(LibraryEntry.objects.values_list("state", flat=True)) == {"text"}
    assert any("search_query=" in r for r in arxiv_search.requests_seen)
    editor = _text(client.get(PROFILE).content.decode())
    assert "3 entries shape your profile: 0 arXiv papers, 3 kept as text." in editor


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("empty.bib", b"", "The submitted file is empty."),
        ("blank.bib", b"  \n\n ", "The file is empty."),
        ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "not a text file"),
        ("notes.txt", b"Dear diary,\nI read some papers today.\n", "is not BibTeX, RIS, CSL-JSON"),
        ("broken.json", b'[{"title": "A"', "This JSON cannot be read"),
    ],
)
def test_a_file_that_cannot_be_imported_says_why_and_keeps_nothing(
    client, reader, name, data, says
):
    response = _upload(client, name, data)

    assert response.status_code == 400
    html = response.content.decode()
    assert says in html
    assert 'id="library-upload"' in html and 'id="profile-form"' in html  # the editor, again
    assert not LibraryEntry.objects.exists()


def test_no_file_at_all_is_refused(client, reader):
    response = client.post(UPLOAD, {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_a_twenty_megabyte_file_is_refused_with_its_size_and_never_stored_whole(
    client, reader, monkeypatch
):
    stored: list[int] = []
    original = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        stored.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    line = b"https://arxiv.org/abs/2401.00001\n"
    data = line * (20 * 1024 * 1024 // len(line) + 1)

    response = _upload(client, "huge.txt", data)

    assert response.status_code == 400
    assert "The file is 20.0 MB; the limit is 16 MB." in response.content.decode()
    assert MAX_BYTES < sum(stored) <= MAX_BYTES + 64 * 1024  # cut at the limit, one chunk over
    assert not LibraryEntry.objects.exists()


def test_the_upload_checks_the_csrf_token(reader):
    strict = Client(enforce_csrf_checks=True)
    _sign_in(strict, reader)
    response = strict.post(UPLOAD, {"file": SimpleUploadedFile("a.txt", b"2401.00001\n")})
    assert response.status_code == 403
    assert not LibraryEntry.objects.exists()


@pytest.mark.django_db
def test_a_visitor_is_sent_to_sign_in(client):
    for url in (UPLOAD, DROP, ZOTERO, ZOTERO_REMOVE):
        assert client.post(url)["Location"] == "/signin/"


def _entries(subscriber: Subscriber, count: int) -> list[LibraryEntry]:
    start = timezone.now()
    return LibraryEntry.objects.bulk_create(
        LibraryEntry(
            subscriber=subscriber,
            key=f"arxiv:2401.{n:05d}",
            state=LibraryEntry.State.ARXIV,
            arxiv_id=f"2401.{n:05d}",
            title=f"Library paper {n}",
            added_at=start - dt.timedelta(minutes=n),  # paper 0 added last
        )
        for n in range(count)
    )


def test_dropping_an_entry_keeps_it_out_of_the_profile_and_leaves_others_alone(client, reader):
    mine = _entries(reader, 3)
    other = make_subscriber()
    [theirs] = _entries(other, 1)

    response = client.post(DROP, {"entry": mine[1].pk})
    assert response.status_code == 302 and response["Location"] == "/profile/#library"
    client.post(DROP, {"entry": theirs.pk})  # another reader's entry: not ours to drop

    assert list(LibraryEntry.objects.filter(dropped=True).values_list("pk", flat=True)) == [
        mine[1].pk
    ]
    html = client.get(PROFILE).content.decode()
    assert "The entry no longer shapes your digest." in html
    assert "That entry is not in your library." in html
    assert f'id="library-entry-{mine[1].pk}"' not in html
    assert f'id="library-drop-{mine[0].pk}"' in html
    assert "2 entries shape your profile: 2 arXiv papers, 0 kept as text; 1 dropped." in _text(html)


def test_a_large_library_is_listed_a_page_at_a_time(client, reader):
    _entries(reader, 2 * PAGE_SIZE + 10)

    first = client.get(PROFILE).content.decode()
    last = client.get(PROFILE, {"library": "3"}).content.decode()
    beyond = client.get(PROFILE, {"library": "99"}).content.decode()
    junk = client.get(PROFILE, {"library": "x"}).content.decode()

    assert first.count('class="library-entry ') == PAGE_SIZE
    assert "Library paper 0<" in first and f"Library paper {PAGE_SIZE}<" not in first
    assert "Page 1 of 3" in _text(first)
    assert last.count('class="library-entry ') == 10
    assert "Library paper 109<" in last and '<ol class="library-entries" start="101">' in last
    assert "Library paper 109<" in beyond and "Page 3 of 3" in _text(beyond)  # the last page
    assert "Library paper 0<" in junk


# The session, the reader, their profile and topics, the last day; the library section's three
# (counts by state, the page of entries, the Zotero link); the inferred categories asking
# whether the library has entries (the profile has no text), then the held papers, the
# reader's feedback, and the rest of the scorer's reads: the same for 20 entries as for 200.
EDITOR_WITH_LIBRARY_QUERIES = 13


@pytest.mark.parametrize("size", [20, 200])
def test_the_editor_with_a_library_reads_a_fixed_number_of_queries(
    client, reader, django_assert_num_queries, size
):
    _entries(reader, size)
    ZoteroLink.objects.create(subscriber=reader, user_id=USER, api_key_encrypted="sealed")
    client.get(PROFILE)  # the day's models warm

    with django_assert_num_queries(EDITOR_WITH_LIBRARY_QUERIES):
        response = client.get(PROFILE)

    html = response.content.decode()
    assert html.count('class="library-entry ') == min(size, PAGE_SIZE)
    assert f"{size} entries shape your profile: {size} arXiv papers" in _text(html)
