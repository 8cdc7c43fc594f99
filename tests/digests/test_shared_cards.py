"""The day's cards compiled once, before sending, for every worker: read through the shared cache
(CACHE_URL, a real Redis here), they give the reference's e-mail; a cache that does not answer
costs compiling, never a digest."""

from __future__ import annotations

import logging
import uuid

import pytest

from digests.assemble import digests_assemble
from digests.delivery import cards_warm
from digests.mail.compose import Composer
from digests.models import Paper
from digests.render import digest_render
from tests.digests.test_render_fast import DAY, _day, _tokens_masked

REDIS = "redis://127.0.0.1:6379/14"


def _cache(settings, location: str) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": uuid.uuid4().hex,  # this test's own keys on the shared Redis
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def _readers_digests():
    from subscribers.models import Subscriber

    readers = list(Subscriber.objects.select_related("profile").order_by("pk"))
    return digests_assemble(subscribers=readers, issue_date=DAY)


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 22], ids=["whole", "cut"])
def test_cards_warmed_before_sending_are_read_by_another_process_unchanged(
    settings, monkeypatch, count
):
    # given a day read by the LLM, and a cache every process shares
    settings.SITE_URL = "https://digest.example.org"
    settings.OPENAI_API_KEY = "sk-test"
    _cache(settings, REDIS)
    _day(count, llm=True)
    monkeypatch.setattr("digests.delivery._COMPOSER", warming := Composer())

    # when the day's cards are compiled once, before sending
    papers = list(Paper.objects.order_by("pk"))
    assert cards_warm(day=DAY, papers=papers, languages=["zh", "en"]) == 2 * len(papers)
    assert warming.cards.compiled >= 4  # both languages' cards, both excerpts, compiled here

    # then a worker that never compiled a card renders the reference's e-mails from them
    digests = _readers_digests()
    worker = Composer()
    emails = worker.render_chunk(digests)
    cut = [e.shown < len(d.items.all()) for d, e in zip(digests, emails.values(), strict=True)]
    # long excerpts and the short ones of e-mails cut to fit Gmail's clip: all were compiled
    assert worker.cards.compiled == 0
    assert any(cut) == (count > 20)
    for digest in digests:
        reference = digest_render(digest)
        assert _tokens_masked(emails[digest.pk].html) == _tokens_masked(reference.html)
        assert _tokens_masked(emails[digest.pk].text) == _tokens_masked(reference.text)
    # and what a worker compiles is shared in turn
    third = Composer()
    third.render_chunk(digests)
    assert third.cards.compiled == 0


@pytest.mark.django_db
def test_warming_again_stores_the_cards_a_cache_lost(settings, monkeypatch):
    # given a process that compiled the day's cards, and a cache that lost them since
    _cache(settings, REDIS)
    _day(3, llm=False)
    monkeypatch.setattr("digests.delivery._COMPOSER", warming := Composer())
    papers = list(Paper.objects.order_by("pk"))
    cards_warm(day=DAY, papers=papers, languages=["en", "zh"])
    _cache(settings, REDIS)  # a new key prefix: an empty cache
    # when the day is warmed again, then a worker finds every card in the cache
    cards_warm(day=DAY, papers=papers, languages=["en", "zh"])
    assert warming.cards.compiled == 4  # per language and excerpt length: none again
    worker = Composer()
    worker.render_chunk(_readers_digests())
    assert worker.cards.compiled == 0


@pytest.mark.django_db
def test_a_cache_that_does_not_answer_costs_compiling_never_an_email(settings, caplog):
    settings.SITE_URL = "https://digest.example.org"
    _cache(settings, "redis://127.0.0.1:9/0")  # nothing listens there
    _day(3, llm=False)
    digests = _readers_digests()
    with caplog.at_level(logging.WARNING, logger="digests.mail.shared"):
        emails = Composer().render_chunk(digests)
    assert "the cache did not answer" in caplog.text
    for digest in digests:
        assert _tokens_masked(emails[digest.pk].html) == _tokens_masked(digest_render(digest).html)


@pytest.mark.django_db
def test_nothing_is_warmed_with_a_cache_of_each_process_its_own(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    _day(2, llm=False)
    assert cards_warm(day=DAY, papers=list(Paper.objects.all()), languages=["en"]) == 0
