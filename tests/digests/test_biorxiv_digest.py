"""The bar of bioRxiv and medRxiv: a reader following a bioRxiv subject and an arXiv category
gets, from the plain commands, one digest with papers of both sources, ranked together."""

from __future__ import annotations

import datetime as dt
import email
import json
from email import policy
from html import unescape

import pytest
from django.core.management import call_command

from devtools.biorxiv_replay import RecordedPreprints, biorxiv_server_start
from digests.models import Digest, IngestDay, Paper

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 18)  # the recorded arXiv day (a Thursday): it takes Wednesday's postings


@pytest.fixture
def recorded_preprints(settings):
    recorded = RecordedPreprints.load(redate=DAY - dt.timedelta(days=1))
    server = biorxiv_server_start(recorded)
    settings.BIORXIV_API_URL = server.base_url
    settings.BIORXIV_REQUEST_DELAY = 0
    yield recorded
    server.shutdown()
    server.server_close()


def test_one_digest_holds_both_sources_each_paper_once(
    recorded_arxiv, recorded_preprints, outbox_dir, tmp_path
) -> None:
    # given a reader imported with a bioRxiv subject and an arXiv category
    readers = tmp_path / "readers.jsonl"
    reader = {
        "email": "bio@example.org", "language": "en", "timezone": "UTC",
        "categories": ["biorxiv:neuroscience", "cs.CL"], "keywords": ["neurons", "language"],
        "max_items": 12, "min_relevance": 10, "confirmed": True,
    }  # fmt: skip
    readers.write_text(json.dumps(reader) + "\n")
    call_command("import_subscribers", str(readers))
    # when the day runs from the plain command
    call_command("run_daily", "--date", DAY.isoformat())
    # then the papers of both sources were ingested for the day
    assert IngestDay.objects.get(date=DAY).status == "announced"
    assert Paper.objects.filter(announce_date=DAY, source="arxiv").count() == 11  # cs.CL
    assert Paper.objects.filter(announce_date=DAY, source="biorxiv").count() == 27
    assert not Paper.objects.filter(source="medrxiv").exists()  # no reader wants it
    # and the one digest holds both, ranked together, each once
    digest = Digest.objects.get(subscriber__email="bio@example.org", issue_date=DAY)
    items = list(digest.items.select_related("paper").order_by("rank"))
    sources = {item.paper.source for item in items}
    assert sources == {"arxiv", "biorxiv"}
    assert len({item.paper_id for item in items}) == len(items)
    relevances = [item.relevance for item in items]
    assert relevances == sorted(relevances, reverse=True)
    # and the e-mail shows each bioRxiv paper by its DOI, with its authors and abstract
    (path,) = outbox_dir.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None
    text = " ".join(plain.get_content().split())
    html = " ".join(unescape(rich.get_content()).split())
    bio = [item.paper for item in items if item.paper.source == "biorxiv"]
    for paper in bio:
        assert text.count(paper.arxiv_id) >= 1
        assert paper.author_names[0] in text
        assert f"bioRxiv doi:{paper.arxiv_id}v{paper.version}" in text
        assert " ".join(paper.abstract.split()[:8]) in html
        assert f"https://www.biorxiv.org/content/{paper.arxiv_id}v{paper.version}" in html
    assert "arxiv.org/abs/" in html and "bioRxiv" in html
