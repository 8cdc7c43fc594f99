"""The library in the profile editor: upload an export and read the report, bad files refused in
words, entries listed a page at a time and dropped, Zotero connected against a local stand-in in
Zotero's recorded format (a refused key said plainly, never echoed), hostile text escaped."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from subscribers.library import MAX_BYTES, LibraryEntry, ZoteroLink
from subscribers.models import Subscriber
from subscribers.ratelimit import Limit
from subscribers.session import SESSION_KEY, email_fingerprint
from subscribers.views.library_section import PAGE_SIZE
from tests.conftest import DEMO_DAY
from tests.factories import make_paper, make_subscriber
from tests.newsletter.test_proxy import proxied_site  # noqa: F401  (nginx in front of gunicorn)
from tests.subscribers.library_stand_ins import (
    ZOTERO_KEY,
    ZOTERO_USER,
    arxiv_search_start,
    zotero_item,
    zotero_serving,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "libraries"
BIB = FIXTURES / "piche_zotero_biblatex_excerpt.bib"
RIS = FIXTURES / "patin_zotero_excerpt.ris"
PROFILE, UPLOAD, DROP = "/profile/", "/profile/library/", "/profile/library/drop/"
ZOTERO, ZOTERO_REMOVE = "/profile/library/zotero/", "/profile/library/zotero/remove/"
USER, KEY = ZOTERO_USER, ZOTERO_KEY


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


@pytest.mark.django_db(transaction=True)  # on_commit runs in the request, as in production
def test_a_broker_that_is_down_costs_the_import_nothing(client, reader, monkeypatch):
    def down(ids: list[int]) -> None:
        raise BrokerError("connection refused")

    monkeypatch.setattr("digests.tasks.library_lookup_readers.delay", down)
    response = _upload(client, "My Library.ris", RIS.read_bytes())

    assert response.status_code == 200
    assert "The look-up on arXiv could not start now. Your entries are kept" in _text(
        response.content.decode()
    )
    assert LibraryEntry.objects.filter(state="lookup").count() == 2


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


def test_imports_past_the_hourly_limit_are_refused(client, reader, monkeypatch, arxiv_search):
    monkeypatch.setattr("subscribers.views.library.IMPORT_LIMIT", Limit("library-import", 1, 60))
    assert _upload(client, "a.txt", b"2401.00001\n").status_code == 200

    response = _upload(client, "b.txt", b"2401.00002\n")

    assert response.status_code == 429
    assert "Too many imports this hour; try again later." in response.content.decode()
    assert list(LibraryEntry.objects.values_list("arxiv_id", flat=True)) == ["2401.00001"]


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


def test_the_categories_a_library_implies_are_offered_by_the_editor(client, reader):
    # given a reader whose profile is only a library of papers we hold, in astrophysics
    papers = [make_paper(categories=["astro-ph.GA", "astro-ph.CO"]) for _ in range(4)]
    LibraryEntry.objects.bulk_create(
        LibraryEntry(
            subscriber=reader, key=f"arxiv:{p.arxiv_id}", state="arxiv", arxiv_id=p.arxiv_id
        )
        for p in papers
    )

    html = client.get(PROFILE).content.decode()

    # then the editor's "you seem to read" block names their categories, with its buttons
    assert 'id="inferred-confirm-astro-ph.GA"' in html
    assert html.index('id="inferred-categories"') < html.index('id="library"')


def _zotero_items() -> list[dict]:
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
        zotero_item(USER, "CCCC3333", {
            "itemType": "book", "title": "<script>alert('zotero')</script> A book",
            "url": "javascript:alert(1)", "dateAdded": "2015-07-15T15:45:43Z",
        }),
    ]  # fmt: skip


@pytest.fixture
def zotero(settings):
    with zotero_serving(settings, _zotero_items()) as server:
        yield server


def _zotero_form(api_key: str, **extra: str) -> dict[str, str]:
    return {"user_id": USER, "api_key": api_key, "include": "", "ignore": "", **extra}


def test_a_refused_zotero_key_is_said_plainly_never_echoed_and_nothing_kept(client, reader, zotero):
    response = client.post(ZOTERO, _zotero_form("WrongKey0123456789"))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Zotero refused this API key for this user id" in html
    assert "WrongKey0123456789" not in html  # the key never comes back into the page
    assert f'value="{USER}"' in html  # the user id does, to fix the key
    assert not ZoteroLink.objects.exists() and not LibraryEntry.objects.exists()


def test_a_zotero_that_cannot_be_reached_keeps_nothing(client, reader, zotero):
    zotero.shutdown()
    zotero.server_close()  # the port now refuses connections

    response = client.post(ZOTERO, _zotero_form(KEY))

    assert response.status_code == 503
    assert "Zotero cannot be reached now; nothing was kept." in response.content.decode()
    assert not ZoteroLink.objects.exists()


def test_a_zotero_library_is_connected_shown_and_removed(client, reader, zotero):
    # when the reader connects their Zotero library, ignoring one collection
    response = client.post(ZOTERO, _zotero_form(KEY, ignore="Microbiome"))

    # then the report says what was read, and the key is kept sealed, never shown
    assert response.status_code == 200
    text = _text(response.content.decode())
    assert (
        "Your Zotero library is connected. 2 entries: 1 arXiv paper found, 1 kept as text" in text
    )
    link = ZoteroLink.objects.get(subscriber=reader)
    assert link.collections_ignore == ["Microbiome"] and KEY not in link.api_key_encrypted
    editor = client.get(PROFILE).content.decode()
    assert "Connected to the Zotero library of user 2536190" in editor
    assert KEY not in editor and link.api_key_encrypted not in editor
    assert 'name="api_key"' in editor and 'name="api_key" value' not in editor
    assert "Microbiome</textarea>" in editor  # the collections, to change them

    # when they disconnect and ask for its entries to go too
    response = client.post(ZOTERO_REMOVE, {"entries": "remove"})

    # then the key is forgotten and Zotero's entries are gone
    assert response.status_code == 302
    assert not ZoteroLink.objects.exists() and not LibraryEntry.objects.exists()
    editor = client.get(PROFILE).content.decode()
    assert "Zotero is disconnected, its key forgotten and its entries removed." in editor


def test_disconnecting_zotero_can_keep_its_entries(client, reader, zotero):
    client.post(ZOTERO, _zotero_form(KEY))
    client.post(ZOTERO_REMOVE, {})
    assert not ZoteroLink.objects.exists()
    assert LibraryEntry.objects.filter(source="zotero").count() == 3


HOSTILE_BIB = b"""@article{evil1,
  title = {<script>alert('title')</script> Attention Is Not All},
  url = {javascript:alert('url')},
  doi = {10.1234/"><script>alert('doi')</script>},
}
@misc{evil2,
  title = {<img src=x onerror=alert('img')> Diffusion},
  eprint = {2401.00002}, archivePrefix = {arXiv},
}
@article{evil3, title = {<b>broken</b>, doi = {10.1/<script>}
"""


def _assert_inert(html: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "javascript:" not in html
    assert not re.search(r'href="(?!https://(arxiv|doi)\.org/|/|#|\?)', html.split("<main", 1)[-1])


def test_hostile_text_in_entries_is_escaped_on_the_report_and_in_the_editor(client, reader, zotero):
    report = _upload(client, "evil.bib", HOSTILE_BIB).content.decode()
    client.post(ZOTERO, _zotero_form(KEY))
    ZoteroLink.objects.update(error="<script>alert('error')</script>")
    editor = client.get(PROFILE).content.decode()

    for html in (report, editor):
        _assert_inert(html)
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; Attention Is Not All" in editor
    assert "&lt;img src=x onerror=alert(&#x27;img&#x27;)&gt; Diffusion" in editor
    assert "&lt;script&gt;alert(&#x27;zotero&#x27;)&lt;/script&gt; A book" in editor
    assert "The last reading failed: &lt;script&gt;alert(&#x27;error&#x27;)" in editor
    assert 'href="https://doi.org/10.1234/%22%3E%3Cscript%3Ealert' in editor


@pytest.fixture
def shipped_proxy(transactional_db, monkeypatch, request) -> dict[str, str]:
    """nginx and gunicorn as `test_proxy` runs them, under this process's SECRET_KEY, so the
    session made here is theirs too."""
    monkeypatch.setenv("SECRET_KEY", django_settings.SECRET_KEY)
    return request.getfixturevalue("proxied_site")


def test_behind_the_shipped_proxy_a_large_upload_is_refused_in_our_words(shipped_proxy):
    # given a reader's session, and the editor's form read through nginx
    reader = make_subscriber(email="big@example.org")
    store = SessionStore()
    store[SESSION_KEY] = {"id": reader.pk, "fp": email_fingerprint(reader.email)}
    store.save()
    browser = requests.Session()
    browser.cookies.set(django_settings.SESSION_COOKIE_NAME, store.session_key)
    base = shipped_proxy["proxy"]
    editor = browser.get(f"{base}{PROFILE}", timeout=30).text
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', editor)
    assert found, editor[:500]
    token = found[1]

    def upload(megabytes: int) -> requests.Response:
        data = b"2401.00001\n" * (megabytes * 1024 * 1024 // 11 + 1)
        return browser.post(
            f"{base}{UPLOAD}",
            data={"csrfmiddlewaretoken": token},
            files={"file": ("library.txt", data)},
            headers={"Referer": f"{base}{PROFILE}"},
            timeout=60,
        )

    # when a 20 MB file is sent, then the app itself refuses it, saying its size
    answer = upload(20)
    assert answer.status_code == 400, answer.text[:3000]
    assert "The file is 20.0 MB; the limit is 16 MB." in answer.text
    # when a 40 MB file is sent, then the proxy refuses it, with our page rather than nginx's
    answer = upload(40)
    assert answer.status_code == 413
    assert "This file is too large" in answer.text and "nginx" not in answer.text.lower()
    assert not LibraryEntry.objects.exists()
