"""Seed papers given by bioRxiv/medRxiv DOI: accepted by the editor and the import, fetched over
real HTTP from the API's stand-in (the recorded `details/<server>/<DOI>` answers), kept on no
announcement day, dated by a window that carries them, and never recommended back."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from django.utils.html import escape

from devtools.biorxiv_replay import RecordedPreprints, biorxiv_server_start
from digests.arxiv import seeds
from digests.assemble import digest_assemble
from digests.biorxiv.client import BiorxivSession, BiorxivThrottle, BiorxivUnavailable
from digests.biorxiv.ingest import preprints_ingest
from digests.models import AnnounceType, IngestDay, Paper
from subscribers.forms import seed_id_normalise
from subscribers.models import InterestProfile, Subscriber
from subscribers.session import SESSION_KEY, email_fingerprint
from tests.factories import make_subscriber

BIO = "10.1101/2021.09.30.462652"  # recorded on bioRxiv with versions 1 and 2
MED = "10.1101/2021.12.11.21267504"  # recorded on medRxiv with versions 1, 2 and 3
UNKNOWN = "10.1101/2099.01.01.000001"  # well formed, on neither server
MONDAY = dt.date(2026, 1, 5)


@pytest.fixture
def stand_in(settings):
    recorded = RecordedPreprints.load(redate=dt.date(2026, 1, 2))
    server = biorxiv_server_start(recorded)
    settings.BIORXIV_API_URL = server.base_url
    settings.BIORXIV_REQUEST_DELAY = 0
    yield recorded
    server.shutdown()
    server.server_close()


def _session() -> BiorxivSession:
    return BiorxivSession(BiorxivThrottle(0))


def _asked(recorded: RecordedPreprints) -> list[str]:
    return [r.removeprefix("/details/") for r in recorded.requests]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (BIO, BIO),
        (f"{BIO}v2", BIO),
        (f"https://www.biorxiv.org/content/{BIO}v2.full.pdf", BIO),
        (f"https://www.medrxiv.org/content/{MED}v1", MED),
        ("https://doi.org/10.1101/201822", "10.1101/201822"),
        ("doi:10.64898/2026.01.02.26343330", "10.64898/2026.01.02.26343330"),
        ("https://arxiv.org/abs/2406.12345v2", "2406.12345"),
    ],
)
def test_seed_dois_and_links_are_normalised(given, expected):
    assert seed_id_normalise(given) == expected


@pytest.mark.parametrize(
    "given", ["10.1038/nature12373", "10.1101/", f"https://example.org/content/{BIO}", "2406.123"]
)
def test_what_is_neither_an_arxiv_id_nor_a_preprint_doi_is_rejected(given):
    with translation.override("en"), pytest.raises(ValidationError, match="bioRxiv/medRxiv DOI"):
        seed_id_normalise(given)


@pytest.mark.django_db
def test_a_doi_seed_saved_in_the_editor_is_fetched_from_its_server(
    client, stand_in, django_capture_on_commit_callbacks
):
    # given a signed-in reader
    reader = make_subscriber(language="en")
    session = client.session
    session[SESSION_KEY] = {"id": reader.pk, "fp": email_fingerprint(reader.email)}
    session.save()
    fields = {
        "language": "en", "keywords": "", "exclude_keywords": "", "authors": "",
        "institutions": "", "categories": "", "interests": "", "max_items": "20",
        "min_relevance": "1", "timezone": "UTC", "delivery_time": "08:00", "frequency": "daily",
        "seed_papers": f"https://www.biorxiv.org/content/{BIO}v1\n{MED}v3\n{UNKNOWN}",
    }  # fmt: skip

    # when they save DOIs (a link, a versioned DOI, an unknown one) as seed papers
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post("/profile/", fields)
    assert response.status_code == 302
    assert InterestProfile.objects.get(subscriber=reader).seed_papers == [BIO, MED, UNKNOWN]
    assert client.get("/profile/").content.decode().count("looking it up…") == 3
    queued[0]()  # the lookup task

    # then each DOI was asked of the server its shape suggests, the other only when needed
    assert _asked(stand_in) == [
        f"biorxiv/{BIO}",
        f"medrxiv/{MED}",
        f"biorxiv/{UNKNOWN}",
        f"medrxiv/{UNKNOWN}",
    ]
    # and the found are kept at their latest version, on no announcement day
    bio, med = Paper.objects.get(arxiv_id=BIO), Paper.objects.get(arxiv_id=MED)
    assert (bio.source, bio.version, bio.version_history) == ("biorxiv", 2, [1])
    assert (med.source, med.version, med.version_history) == ("medrxiv", 3, [1, 2])
    assert bio.announce_date is None and bio.announce_type == "" and not bio.announced
    assert bio.title.startswith("Are Machines-learning Methods More Efficient")
    assert bio.abstract and bio.author_names
    assert not Paper.objects.filter(arxiv_id=UNKNOWN).exists()
    # and the editor says so, naming the servers for the DOI neither holds
    html = client.get("/profile/").content.decode()
    assert f"found: {escape(bio.title)}" in html and f"found: {escape(med.title)}" in html
    assert "not found on bioRxiv or medRxiv" in html and "not found on arXiv" not in html

    # and the daily run asks nothing again: the found are held, the missing remembered
    before = len(stand_in.requests)
    assert seeds.seeds_missing_fetch(biorxiv_session=_session()).asked == 0
    assert len(stand_in.requests) == before


@pytest.mark.django_db
def test_a_server_down_leaves_the_doi_to_look_up_later(stand_in, caplog, settings):
    # given a reader's DOI seed, and an API that answers 503 to every try
    settings.ARXIV_BACKOFF_INITIAL = 0
    make_subscriber(seed_papers=[BIO])
    stand_in.fail_next(*["503"] * 5)
    # when the daily run looks seeds up
    with caplog.at_level(logging.WARNING, logger="digests.arxiv.seeds"):
        report = seeds.seeds_missing_fetch(biorxiv_session=_session())
    # then the run goes on without it, says why, and keeps the seed pending, not missing
    assert report.found == [] and report.missing == []
    assert "their server is unavailable" in caplog.text
    assert [s.state for s in seeds.seeds_status([BIO])] == ["pending"]
    with pytest.raises(BiorxivUnavailable):
        stand_in.fail_next(*["503"] * 5)
        seeds.seeds_fetch([BIO], biorxiv_session=_session())
    # and once the API is back, the next lookup finds it
    assert seeds.seeds_fetch([BIO], biorxiv_session=_session()).found == [BIO]


@pytest.mark.django_db
def test_a_doi_seed_is_never_recommended_back_and_a_window_gives_it_its_day(stand_in):
    # given a seed fetched by DOI before the window that carries it is read
    window = stand_in.records["biorxiv"]
    neuro = [r for r in window if r["category"] == "neuroscience" and r["type"] != "withdrawn"]
    seed_doi = neuro[0]["doi"]
    assert seeds.seeds_fetch([seed_doi], biorxiv_session=_session()).found == [seed_doi]
    assert Paper.objects.get(arxiv_id=seed_doi).announce_date is None
    # and two readers of bioRxiv's neuroscience, one of whom gave that paper as a seed
    profile = {"categories": ["biorxiv:neuroscience"], "min_relevance": 0, "max_items": 100}
    seeding = make_subscriber(seed_papers=[f"{seed_doi}v1"], **profile)
    other = make_subscriber(**profile)

    # when Monday's issue reads the window
    IngestDay.objects.create(
        date=MONDAY, status=IngestDay.Status.ANNOUNCED, started_at=timezone.now()
    )
    preprints_ingest(day=MONDAY, categories=["biorxiv:neuroscience"], session=_session())

    # then the paper held only as a seed is a paper of that day like the others: first seen
    # at a version above 1, as every record of this window, a replacement readers never got
    paper = Paper.objects.get(arxiv_id=seed_doi)
    assert paper.announce_date == MONDAY and paper.first_announced == MONDAY
    assert paper.announce_type == AnnounceType.REPLACE
    day = set(Paper.objects.filter(announce_date=MONDAY).values_list("arxiv_id", flat=True))
    assert day == {r["doi"] for r in neuro}
    # and the reader who gave it gets every paper of the subject but that one
    got = {
        s.email: {i.paper.arxiv_id for i in digest_assemble(
            subscriber=Subscriber.objects.get(pk=s.pk), issue_date=MONDAY
        ).items.select_related("paper")}
        for s in (seeding, other)
    }  # fmt: skip
    assert seed_doi in got[other.email]
    assert seed_doi not in got[seeding.email]
    assert got[seeding.email] == got[other.email] - {seed_doi}


@pytest.mark.django_db
def test_import_subscribers_accepts_doi_seeds(tmp_path, capsys):
    lines = [
        {"email": "bio@example.org", "seed_papers": [f"{BIO}v2", "2606.17199"]},
        {"email": "bad@example.org", "seed_papers": ["10.1038/nature12373"]},
    ]
    path = tmp_path / "readers.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    with pytest.raises(CommandError, match="1 lines rejected"):
        call_command("import_subscribers", str(path))
    profile = InterestProfile.objects.get(subscriber__email="bio@example.org")
    assert profile.seed_papers == [f"{BIO}v2", "2606.17199"]
    assert not Subscriber.objects.filter(email="bad@example.org").exists()
    err = capsys.readouterr().err
    assert "line 2" in err and "neither arXiv ids nor bioRxiv/medRxiv DOIs" in err


@pytest.mark.django_db
def test_a_seed_doi_written_in_capitals_is_read_as_held():
    from digests.scoring.inputs import profile_rows
    from tests.factories import make_paper, make_subscriber

    held = make_paper(arxiv_id="10.1101/2024.05.01.592000", title="Held by its lower-case DOI")
    reader = make_subscriber(seed_papers=["10.1101/2024.05.01.592000V2".upper()])
    (row,) = profile_rows([reader])
    assert any(held.title in text for text in row.seed_texts)
