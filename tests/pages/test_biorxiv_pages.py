"""The public pages with bioRxiv and medRxiv papers (real recorded records, ingested over real
HTTP from the API's stand-in): the paper page by DOI, and topic and author pages mixing sources."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from devtools.biorxiv_replay import RecordedPreprints, biorxiv_server_start
from digests.biorxiv.client import BiorxivSession, BiorxivThrottle
from digests.biorxiv.ingest import preprints_ingest
from digests.enrich import lexical_enrich
from digests.models import AuthorBackfill, IngestDay, Paper
from subscribers.tokens import digest_token
from tests.conftest import ARTIFACTS
from tests.factories import make_digest, make_digest_item, make_paper, make_topic

MONDAY = dt.date(2026, 1, 5)  # takes what was posted from Friday on
PUBLISHED = "10.1101/2020.12.16.422991"  # bioRxiv v3, neuroscience, published in a journal
JOURNAL = "10.1038/s41467-026-68806-5"
CONFIRMATORY = "10.1101/2022.03.15.484504"  # bioRxiv v3, cell biology, confirmatory results
MEDRXIV = "10.1101/2022.12.14.22283438"  # a medRxiv record of the recorded page


@pytest.fixture
def window(settings):
    """Monday's issue, holding every recorded bioRxiv and medRxiv record (posted on Friday)."""
    recorded = RecordedPreprints.load(redate=dt.date(2026, 1, 2))
    server = biorxiv_server_start(recorded)
    settings.BIORXIV_API_URL = server.base_url
    settings.BIORXIV_REQUEST_DELAY = 0
    IngestDay.objects.create(
        date=MONDAY, status=IngestDay.Status.ANNOUNCED, started_at=timezone.now()
    )
    report = preprints_ingest(
        day=MONDAY,
        categories=["biorxiv:*", "medrxiv:*"],
        session=BiorxivSession(BiorxivThrottle(0)),
    )
    assert report.created > 100 and not report.failed
    yield recorded
    server.shutdown()
    server.server_close()


def _paper_url(doi: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("public:paper", args=[doi]) + (f"?{query}" if query else "")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _shown(html: str) -> list[str]:
    return re.findall(r'id="paper-([^"]+)"', html)


@pytest.mark.django_db
def test_the_paper_page_by_doi_shows_the_preprint_on_its_own_server(client: Client, window):
    paper = Paper.objects.get(arxiv_id=PUBLISHED)
    # when its page is opened by DOI
    response = client.get(_paper_url(PUBLISHED), HTTP_ACCEPT_LANGUAGE="en")
    # then it shows the preprint with its source badge, version, subject and result type
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(
        r'<span class="badge source source-biorxiv" id="source"[^>]*>bioRxiv</span>', html
    )
    assert f"{PUBLISHED}v3 · 2026-01-05 · biorxiv:neuroscience" in _text(html)
    assert '<span class="result-type" id="result-type">new results</span>' in html
    assert paper.title in html and paper.author_names[0] in html
    assert " ".join(paper.abstract.split()[:8]) in " ".join(html.split())
    # and its links go to bioRxiv: the abstract, the PDF and the full text of that version
    base = f"https://www.biorxiv.org/content/{PUBLISHED}v3"
    found = re.search(r'<p id="links">(.*?)</p>', html, re.DOTALL)
    assert found is not None
    links = found.group(1)
    assert re.findall(r'href="([^"]+)"', links) == [base, f"{base}.full.pdf", f"{base}.full"]
    assert ">bioRxiv</a>" in links and ">Full text</a>" in links and "arxiv.org" not in links
    # and the journal DOI is said as "published in", as text, never a link
    assert (
        f"published in {JOURNAL}" in _text(links) and f'href="https://doi.org/{JOURNAL}' not in html
    )


@pytest.mark.django_db
def test_the_paper_page_of_a_preprint_in_chinese(client: Client, window):
    response = client.get(_paper_url(CONFIRMATORY, lang="zh-hans"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="result-type" id="result-type">验证性结果</span>' in html
    assert ">全文</a>" in html and 'title="来源"' in html
    published = client.get(_paper_url(PUBLISHED, lang="zh-hans")).content.decode()
    assert f"已发表于 {JOURNAL}" in _text(published)


@pytest.mark.django_db
def test_a_medrxiv_paper_page_links_to_medrxiv_and_an_unknown_doi_is_not_found(
    client: Client, window
):
    paper = Paper.objects.get(arxiv_id=MEDRXIV)
    html = client.get(_paper_url(MEDRXIV), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(r'class="badge source source-medrxiv"[^>]*>medRxiv</span>', html)
    assert f'href="https://www.medrxiv.org/content/{MEDRXIV}v{paper.version}.full"' in html
    assert "result-type" not in html  # medRxiv records carry no result type
    assert client.get(_paper_url("10.1101/2099.01.01.000001")).status_code == 404


@pytest.mark.django_db
def test_a_topic_page_ranks_papers_of_both_sources_together(client: Client, window):
    # given a topic reading an arXiv category and a bioRxiv subject, and arXiv papers of the day
    make_topic(
        slug="computational-neuroscience",
        names={"en": "Computational neuroscience", "zh": "计算神经科学"},
        categories=["q-bio.NC", "biorxiv:neuroscience"],
        keywords=["neurons", "neuronal", "cortex", "brain", "synaptic"],
    )
    arxiv = [
        make_paper(
            title=f"Spiking neurons in cortex model {n}", abstract="We model cortex neurons.",
            categories=["q-bio.NC"], announce_date=MONDAY,
        )
        for n in range(2)
    ]  # fmt: skip
    lexical_enrich(list(Paper.objects.filter(announce_date=MONDAY)))  # the LLM-less reading
    # when its page is opened
    response = client.get(reverse("public:topic", args=["computational-neuroscience"]))
    # then it lists the day's papers of both sources, each once, with their own links
    html = response.content.decode()
    shown = _shown(html)
    assert {p.arxiv_id for p in arxiv} <= set(shown)
    neuro = set(
        Paper.objects.filter(announce_date=MONDAY, source="biorxiv")
        .filter(primary_category="biorxiv:neuroscience")
        .values_list("arxiv_id", flat=True)
    )
    assert neuro & set(shown) and len(shown) == len(set(shown))
    # ranked together: one relevance order across sources
    relevance = [int(r) for r in re.findall(r'class="badge relevance"[^>]*>(\d+)%<', html)]
    assert len(relevance) == len(shown) and relevance == sorted(relevance, reverse=True)
    assert "https://www.biorxiv.org/content/" in html and "https://arxiv.org/abs/" in html
    assert re.search(r'class="badge source source-biorxiv"[^>]*>bioRxiv</span>', html)


@pytest.mark.django_db
def test_an_author_page_holds_their_papers_of_both_sources(client: Client, window):
    # given a bioRxiv author who also has an arXiv paper
    preprint = Paper.objects.get(arxiv_id=PUBLISHED)
    name = preprint.author_names[0]
    arxiv = make_paper(
        title="A theory of memory circuits", categories=["q-bio.NC"],
        authors=[{"name": name, "affiliations": []}], announce_date=MONDAY,
    )  # fmt: skip
    AuthorBackfill.objects.create(  # arXiv's author search already done: nothing more
        key=" ".join(name.lower().split()), name=name, state=AuthorBackfill.State.DONE,
        requested_at=timezone.now(), fetched_at=timezone.now(), arxiv_ids=[],
    )  # fmt: skip
    # when their page is opened
    html = client.get(reverse("public:author", args=[name])).content.decode()
    # then both papers are there, the bioRxiv one by its DOI on its own server
    assert set(_shown(html)) == {PUBLISHED, arxiv.arxiv_id}
    assert f'href="https://www.biorxiv.org/content/{PUBLISHED}v3"' in html
    assert f'href="https://arxiv.org/abs/{arxiv.arxiv_id}v1"' in html


@pytest.mark.django_db
def test_the_view_in_browser_page_names_each_paper_by_its_own_server(client: Client, window):
    # given a digest holding a bioRxiv paper and an arXiv one
    digest = make_digest(issue_date=MONDAY)
    make_digest_item(digest=digest, paper=Paper.objects.get(arxiv_id=PUBLISHED))
    arxiv = make_digest_item(digest=digest, paper=make_paper(announce_date=MONDAY)).paper
    # when the reader views it in the browser
    url = reverse("public:digest", args=[digest_token(digest_id=digest.pk)])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then each paper is cited and linked on its own server
    base = f"https://www.biorxiv.org/content/{PUBLISHED}v3"
    assert f'<a href="{base}" rel="noopener">bioRxiv doi:{PUBLISHED}v3</a>' in html
    assert f'<a href="{base}.full" rel="noopener">Full text</a>' in html
    assert f"arXiv:{PUBLISHED}" not in html
    assert f'rel="noopener">arXiv:{arxiv.arxiv_id}v1</a>' in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_biorxiv_paper_page_in_chromium(live_server, page, window):
    # given a real bioRxiv paper whose journal DOI was tampered with into markup
    paper = Paper.objects.get(arxiv_id=PUBLISHED)
    hostile = f'{JOURNAL}"><script>alert("doi")</script>'
    Paper.objects.filter(pk=paper.pk).update(doi=hostile)
    dialogs: list[str] = []

    def record(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})

    # when Chromium opens its page by DOI
    response = page.goto(f"{live_server.url}/papers/{PUBLISHED}/")

    # then the Chinese page shows the preprint on its own server, the DOI as text, nothing ran
    assert response is not None and response.status == 200
    assert page.locator("#source").inner_text() == "bioRxiv"
    assert page.locator("#result-type").inner_text() == "新结果"
    assert page.locator("#title").inner_text() == paper.title
    base = f"https://www.biorxiv.org/content/{PUBLISHED}v3"
    links = page.locator("#links a")
    assert links.evaluate_all("links => links.map(a => a.href)") == [
        base,
        f"{base}.full.pdf",
        f"{base}.full",
    ]
    assert links.all_inner_texts() == ["bioRxiv", "PDF", "全文"]
    assert f"已发表于 {hostile}" in page.locator("#links").inner_text()
    assert page.locator("main script").count() == 0 and dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "biorxiv_paper.png"), full_page=True)
