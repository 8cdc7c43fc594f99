"""The profile editor: every field saved, seed papers checked, the live preview, a new address."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Digest
from digests.scoring.lexical import LEXICAL_VERSION
from subscribers.forms import arxiv_id_normalise
from subscribers.models import Subscriber
from subscribers.session import SESSION_KEY, email_fingerprint
from tests.factories import make_enrichment, make_paper, make_subscriber, make_topic
from tests.outbox import outbox_mails

PROFILE = "/profile/"
PREVIEW = "/profile/preview/"
DAY = dt.date(2026, 6, 18)


def _sign_in(client: Client, subscriber: Subscriber) -> None:
    """Open the session a magic link opens (what `session.sign_in` stores)."""
    session = client.session
    session[SESSION_KEY] = {"id": subscriber.pk, "fp": email_fingerprint(subscriber.email)}
    session.save()


def _fields(**changes: str | list[str]) -> dict:
    data: dict = {
        "language": "en",
        "keywords": "",
        "exclude_keywords": "",
        "authors": "",
        "institutions": "",
        "categories": "",
        "interests": "",
        "seed_papers": "",
        "max_items": "20",
        "min_relevance": "30",
        "timezone": "UTC",
        "delivery_time": "08:00",
        "frequency": "daily",
    }
    data.update(changes)
    return data


def _titles(preview: dict) -> list[str]:
    return [item["title"] for item in preview["items"]]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2406.12345", "2406.12345"),
        ("2406.12345v2", "2406.12345"),
        ("https://arxiv.org/abs/2406.12345v2", "2406.12345"),
        ("http://arxiv.org/pdf/2406.12345v3.pdf", "2406.12345"),
        ("arxiv.org/html/2406.1234v1/", "2406.1234"),
        ("arXiv:2406.12345", "2406.12345"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("https://arxiv.org/abs/math.AG/0601001v2", "math.AG/0601001"),
    ],
)
def test_arxiv_ids_and_links_are_normalised(given, expected):
    assert arxiv_id_normalise(given) == expected


@pytest.mark.parametrize(
    "given", ["2406.123", "arxiv 2406.12345", "https://example.org/abs/2406.12345", "hep-th/99"]
)
def test_what_is_not_an_arxiv_id_is_rejected(given):
    with pytest.raises(ValidationError):
        arxiv_id_normalise(given)


@pytest.mark.django_db
def test_the_editor_needs_a_signed_in_reader(client):
    assert client.get(PROFILE)["Location"] == "/signin/"
    assert client.post(PREVIEW, _fields())["Location"] == "/signin/"


# 23: the page's own, the preview's scorer (the reader, topics, feedback, the day's papers and
# readings; the day's count and newest paper keying the cached document frequencies and the
# category model), and the "you seem to read" block reading the keywords' categories too;
# the preview's later reads (the library's papers kept out of it among them); and the library
# section's two (its counts by state, the Zotero link; no entries to list).
STEADY_QUERIES = 23


@pytest.mark.parametrize("topic_count", [2, 12])
@pytest.mark.django_db
def test_the_editor_shows_every_field_and_the_preview_in_a_fixed_number_of_queries(
    client, django_assert_num_queries, topic_count
):
    # given a reader with topics and keywords, and a day of papers, one translated
    topics = [make_topic(featured=True) for _ in range(topic_count)]
    reader = make_subscriber(keywords=["diffusion"], topics=topics[:-1], language="zh")
    hit = make_paper(title="Diffusion models for text")
    make_enrichment(
        paper=hit, language="zh", title="文本扩散模型", prompt_version=ENRICH_PROMPT_VERSION
    )
    for _ in range(5):
        make_paper(title="Something else")
    _sign_in(client, reader)

    # when the editor is opened: always the same number of queries, however many topics, once
    # the day's models are warm (the first opening of a day also reads the four weeks' papers for
    # the document frequencies and trains the category model, once per day and process)
    client.get(PROFILE)
    with django_assert_num_queries(STEADY_QUERIES):
        response = client.get(PROFILE)

    # then every field is there, and the preview shows the match with its translation and reason
    html = response.content.decode()
    assert response.status_code == 200
    for name in (
        "language",
        "topics",
        "keywords",
        "exclude_keywords",
        "authors",
        "institutions",
        "categories",
        "interests",
        "seed_papers",
        "max_items",
        "min_relevance",
        "include_updates",
        "serendipity",
        "timezone",
        "delivery_time",
        "frequency",
    ):
        assert f'name="{name}"' in html, name
    assert 'id="author-suggestions"' in html
    items = re.findall(r'<li class="preview-item">(.*?)</li>', html, re.S)
    assert len(items) == 1
    assert "Diffusion models for text" in items[0]
    assert "文本扩散模型" in items[0]
    assert "%" in items[0]
    assert "style=" not in html
    # and the unsubscribe button posts to the reader's own unsubscribe link
    assert re.search(r'<form method="post" action="/u/[^"]+/" id="unsubscribe-form">', html)


@pytest.mark.django_db
def test_saving_the_editor_stores_every_field(client):
    # given a signed-in reader and a featured topic
    reader = make_subscriber()
    topic = make_topic(featured=True)
    _sign_in(client, reader)

    # when they save a full profile
    response = client.post(
        PROFILE,
        _fields(
            language="zh",
            topics=[str(topic.pk)],
            keywords="GRPO\nRLHF, GRPO",
            exclude_keywords="survey",
            authors="Yongjin Yang",
            institutions="Tsinghua University",
            categories="cs.CL, stat.ML",
            interests="credit assignment",
            seed_papers="https://arxiv.org/abs/2406.12345v2\nhep-th/9901001",
            max_items="12",
            min_relevance="55",
            include_updates="on",
            serendipity="on",
            timezone="Europe/Paris",
            delivery_time="06:45",
            frequency="weekly",
        ),
    )

    # then they are back on the editor, and every field holds what they typed, cleaned
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    reader.refresh_from_db()
    profile = reader.profile
    assert (reader.language, reader.timezone, reader.frequency) == ("zh", "Europe/Paris", "weekly")
    assert reader.delivery_time == dt.time(6, 45)
    assert profile.keywords == ["GRPO", "RLHF"]
    assert profile.exclude_keywords == ["survey"]
    assert profile.authors == ["Yongjin Yang"]
    assert profile.institutions == ["Tsinghua University"]
    assert profile.categories == ["cs.CL", "stat.ML"]
    assert profile.interests == "credit assignment"
    assert profile.seed_papers == ["2406.12345", "hep-th/9901001"]
    assert (profile.max_items, profile.min_relevance) == (12, 55)
    assert profile.include_updates and profile.serendipity
    assert list(profile.topics.all()) == [topic]
    # and the page now speaks the reader's new language
    assert client.get(PROFILE)["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_an_invalid_seed_paper_is_rejected_with_a_clear_error(client):
    # given a signed-in reader with one seed paper
    reader = make_subscriber(seed_papers=["2406.00001"])
    _sign_in(client, reader)

    # when they add something that is not an arXiv id
    response = client.post(PROFILE, _fields(seed_papers="2406.12345\nmy favourite paper"))

    # then the editor says which entry is wrong, and nothing is saved
    assert response.status_code == 400
    assert "“my favourite paper” is neither an arXiv id or link nor a bioRxiv/medRxiv DOI" in (
        response.content.decode()
    )
    reader.refresh_from_db()
    assert reader.profile.seed_papers == ["2406.00001"]


@pytest.mark.django_db
def test_the_preview_ranks_the_matching_paper_first_and_follows_the_keywords(client):
    # given yesterday's paper and today's papers on two subjects
    make_paper(title="Old diffusion paper", announce_date=DAY - dt.timedelta(days=1))
    make_paper(title="Protein folding with graph networks")
    make_paper(title="Diffusion language models", abstract="We study diffusion for text.")
    make_paper(title="Another paper on retrieval")
    reader = make_subscriber()
    _sign_in(client, reader)

    # when the preview is asked for a profile about diffusion
    first = client.post(PREVIEW, _fields(keywords="diffusion")).json()

    # then the day's diffusion paper comes first, with its relevance and reason
    assert first["issue_date"] == "2026-06-18"
    assert first["considered"] == 3
    assert _titles(first)[0] == "Diffusion language models"
    assert "Old diffusion paper" not in _titles(first)
    assert first["items"][0]["reason"] == "keyword: diffusion"
    assert first["items"][0]["relevance"] >= 60
    assert first["items"][0]["url"].startswith("https://arxiv.org/abs/")

    # when the keywords change
    second = client.post(PREVIEW, _fields(keywords="protein folding")).json()

    # then so does the preview; nothing was saved, no digest made
    assert _titles(second)[0] == "Protein folding with graph networks"
    assert "Diffusion language models" not in _titles(second)
    reader.refresh_from_db()
    assert reader.profile.keywords == []
    assert not Digest.objects.exists()


@pytest.mark.django_db
def test_the_preview_uses_the_unsaved_topics_and_weekly_frequency(client):
    # given a topic the reader does not follow yet, and a paper of each of two days
    topic = make_topic(featured=True, names={"en": "Post-training", "zh": "后训练"})
    paper = make_paper(title="A post-training recipe")
    make_enrichment(
        paper=paper,
        language="en",
        status="llm-less",
        prompt_version=LEXICAL_VERSION,
        topic_hits=[{"topic": topic.slug, "score": 90, "reason": "recipe"}],
    )
    make_paper(title="Earlier diffusion paper", announce_date=DAY - dt.timedelta(days=2))
    reader = make_subscriber()
    _sign_in(client, reader)

    # when the preview is asked with the topic ticked, weekly, with a keyword from earlier
    data = client.post(
        PREVIEW, _fields(topics=[str(topic.pk)], frequency="weekly", keywords="diffusion")
    ).json()

    # then both the topic's paper and the earlier day's paper are in, each with its reason
    reasons = {item["title"]: item["reason"] for item in data["items"]}
    assert data["considered"] == 2
    assert reasons["Earlier diffusion paper"] == "keyword: diffusion"
    assert reasons.get("A post-training recipe", "").startswith(("topic hit", "category"))
    assert list(reader.profile.topics.all()) == []


@pytest.mark.django_db
def test_an_invalid_form_gets_its_errors_from_the_preview(client):
    reader = make_subscriber()
    _sign_in(client, reader)

    response = client.post(PREVIEW, _fields(seed_papers="nonsense", categories="cs.XX"))

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"seed_papers", "categories"}


@pytest.mark.django_db
def test_the_preview_takes_the_csrf_token_in_a_header():
    # given a browser-like client that checks CSRF, signed in, holding the page's token
    reader = make_subscriber()
    client = Client(enforce_csrf_checks=True)
    _sign_in(client, reader)
    page = client.get(PROFILE)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]

    # when the preview is posted without, then with the header
    refused = client.post(PREVIEW, _fields())
    answered = client.post(PREVIEW, _fields(), headers={"X-CSRFToken": token})

    # then only the second is answered
    assert refused.status_code == 403
    assert answered.status_code == 200


@pytest.mark.django_db
def test_a_new_address_is_changed_only_once_confirmed(client, outbox_dir):
    # given a reader signed in here, and on another device
    reader = make_subscriber(email="old@example.org")
    other_device = Client()
    _sign_in(client, reader)
    _sign_in(other_device, reader)

    # when they ask for a new address
    response = client.post("/profile/email/", {"email": "new@example.org"})

    # then a link goes to the new address only, and nothing has changed yet
    assert response.status_code == 200
    assert b"new@example.org" in response.content
    [mail] = outbox_mails(outbox_dir)
    assert mail["To"] == "new@example.org"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/email/confirm/[^/\s]+/)", text)[1]
    assert client.get(path).status_code == 200
    reader.refresh_from_db()
    assert reader.email == "old@example.org"

    # when the link's button is pressed
    confirmed = client.post(path)

    # then the address is the new one, this browser is signed in, the other device is not,
    # and the link does not work twice
    reader.refresh_from_db()
    assert reader.email == "new@example.org"
    assert confirmed["Location"] == PROFILE
    assert client.get(PROFILE).status_code == 200
    assert other_device.get(PROFILE)["Location"] == "/signin/"
    assert client.post(path).status_code == 400


@pytest.mark.django_db
def test_a_new_address_held_by_someone_else_is_not_taken(client, outbox_dir):
    # given a reader, and another subscriber at the address they ask for
    reader = make_subscriber(email="old@example.org")
    make_subscriber(email="taken@example.org")
    _sign_in(client, reader)
    client.post("/profile/email/", {"email": "taken@example.org"})
    text = outbox_mails(outbox_dir)[0].get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/email/confirm/[^/\s]+/)", text)[1]

    # when the link is confirmed
    response = client.post(path)

    # then the page says so and neither address changed
    assert response.status_code == 409
    assert b"Another subscription uses this address" in response.content
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "old@example.org",
        "taken@example.org",
    }


@pytest.mark.django_db
def test_unsubscribing_from_the_editor_ends_the_session(client):
    # given a signed-in reader on their editor
    reader = make_subscriber()
    _sign_in(client, reader)
    html = client.get(PROFILE).content.decode()
    action = re.search(r'action="(/u/[^"]+/)" id="unsubscribe-form"', html)[1]

    # when they press "unsubscribe"
    response = client.post(action)

    # then they are unsubscribed and the editor asks them to sign in again
    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED
    assert client.get(PROFILE)["Location"] == "/signin/"


@pytest.mark.django_db
def test_a_followed_topic_no_longer_featured_stays_on_offer_to_its_followers(client):
    # given a reader following a topic that was featured once, and a featured one
    retired = make_topic(featured=False, names={"en": "Retired topic"})
    featured = make_topic(featured=True, names={"en": "Featured topic"})
    reader = make_subscriber(topics=[retired])
    _sign_in(client, reader)

    # when they open the editor and save it with both ticked
    html = client.get(PROFILE).content.decode()
    response = client.post(PROFILE, _fields(topics=[str(retired.pk), str(featured.pk)]))

    # then the retired topic was offered, ticked, and is kept
    assert re.search(rf'value="{retired.pk}"[^>]*checked', html)
    assert "Retired topic" in html
    assert response.status_code == 302
    assert set(reader.profile.topics.all()) == {retired, featured}
    # and the preview accepts it too; others are not offered it
    assert client.post(PREVIEW, _fields(topics=[str(retired.pk)])).status_code == 200
    other = Client()
    _sign_in(other, make_subscriber())
    assert "Retired topic" not in other.get(PROFILE).content.decode()
