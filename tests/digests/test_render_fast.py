"""The fast path (`digests.mail`) gives the reference's e-mail byte for byte, and signs the
same links; the send loop's queries do not grow with the chunk."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from digests.assemble import digests_assemble
from digests.enrich import lexical_enrich
from digests.mail.compose import Composer
from digests.mail.links import FeedbackSigner
from digests.mail_html import html_wire_bytes, lines_wrapped
from digests.models import Delivery, Paper
from digests.render import HTML_BUDGET, digest_render
from subscribers.tokens import feedback_token, feedback_token_read
from tests.factories import make_enrichment, make_paper, make_subscriber, make_topic

DAY = dt.date(2026, 6, 18)
CLAIM_AND_RECORD = 4
LONG = " ".join(f"reinforcement learning word{n} of the abstract" for n in range(60))


def _tokens_masked(text: str) -> str:
    return re.sub(r"/([ufdms])/[^/\"\s]+/", r"/\1/TOKEN/", text)


def _day(papers: int, *, llm: bool) -> None:
    topic = make_topic(
        slug="post-training", names={"en": "Post-training", "zh": "后训练"},
        keywords=["preference optimization"],
    )  # fmt: skip
    for n in range(papers):
        paper = make_paper(
            arxiv_id=f"2606.{18000 + n}",
            title=f"Paper {n}: reinforcement learning & <b>preference optimization</b>",
            abstract=LONG if n % 2 else "We propose 'SC-GRPO' & \"more\". " + LONG[:400],
            authors=[{"name": f"Author {n}", "affiliations": ["Tsinghua University"]}],
            categories=["cs.LG", "cs.AI"], comment="15 pages" if n % 3 else "",
            announce_date=DAY,
        )  # fmt: skip
        if llm:
            for language in ("zh", "en"):
                make_enrichment(
                    paper=paper, language=language, title=f"论文 {n} 的标题" if language == "zh"
                    else "", abstract="中文摘要。" * 80, summary="一句话总结 <i>x</i>",
                    topic_hits=[{"topic": "post-training", "score": 80, "reason": "理由 & <原因>"}],
                )  # fmt: skip
    lexical_enrich(list(Paper.objects.all()))
    for language in ("en", "zh"):
        for keywords in (["reinforcement learning"], ['preference <optimization> & "x"']):
            make_subscriber(
                email=f"o'brien+{language}{len(keywords[0])}@example.org", language=language,
                topics=[topic], keywords=keywords, min_relevance=1, max_items=25,
            )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("papers", [3, 22], ids=["whole", "cut"])
@pytest.mark.parametrize("llm", [False, True], ids=["llm-less", "llm"])
def test_the_fast_path_gives_the_reference_email(settings, papers, llm):
    # given English and Chinese readers of a day read with or without the LLM
    settings.SITE_URL = "https://digest.example.org"
    settings.OPENAI_API_KEY = "sk-test" if llm else ""
    _day(papers, llm=llm)
    from subscribers.models import Subscriber

    readers = list(Subscriber.objects.select_related("profile").order_by("pk"))
    digests = digests_assemble(subscribers=readers, issue_date=DAY)

    # when the chunk is rendered by the fast path, twice (the second from its caches)
    composer = Composer()
    first = composer.render_chunk(digests)
    compiled = composer.compiled
    again = composer.render_chunk(digests)

    # then every part equals the reference's (links signed at another moment: masked)
    for digest in digests:
        reference = digest_render(digest)
        for fast in (first[digest.pk], again[digest.pk]):
            assert fast.subject == reference.subject
            assert fast.shown == reference.shown
            assert _tokens_masked(fast.text) == _tokens_masked(reference.text)
            assert _tokens_masked(fast.html) == _tokens_masked(reference.html)
            assert html_wire_bytes(fast.html) <= HTML_BUDGET
    assert composer.compiled == compiled  # nothing compiled again for the same readers
    if papers > 20:
        assert any(
            e.shown < len(d.items.all()) for d, e in zip(digests, first.values(), strict=True)
        )
    assert "<b>preference" not in first[digests[0].pk].html  # paper text stayed text


def test_signed_links_are_djangos_tokens(settings, monkeypatch):
    settings.SECRET_KEY = "k" * 50
    monkeypatch.setattr("time.time", lambda: 1_780_000_000.0)
    signer = FeedbackSigner()
    for args in ((1, 2, "more"), (123456, 987654, "less"), (7, 8, "save")):
        token = signer.token(*args)
        assert token == feedback_token(subscriber_id=args[0], paper_id=args[1], signal=args[2])
        assert feedback_token_read(token) == args


def test_wrapped_html_keeps_every_line_8bit():
    # a run of Outlook conditionals longer than a line is broken inside one of them
    conditional = '<!--[if mso | IE]><table border="0" role="presentation"><tr><td><![endif]-->'
    html = "<div>" + "x " * 400 + "</div>" + conditional * 20 + "<p>" + "中文" * 600 + "</p>"
    wrapped = lines_wrapped(html)
    assert max(len(line.encode()) for line in wrapped.split("\n")) <= 998
    assert html_wire_bytes(wrapped) == len(wrapped.encode())  # 8bit, not quoted-printable


@pytest.mark.django_db
def test_the_send_loop_queries_do_not_grow_with_the_chunk(settings):
    from digests.fanout import chunk_send
    from subscribers.models import Subscriber

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _day(5, llm=False)
    readers = list(Subscriber.objects.select_related("profile").order_by("pk"))
    ids = [r.pk for r in readers]
    counts = []
    for readers in (ids[:1], ids[1:]):
        with CaptureQueriesContext(connection) as queries:
            chunk_send(issue_date=DAY, subscriber_ids=readers)
        # (savepoints: the claim's and the record's transactions nested in the test's own)
        counts.append(sum("SAVEPOINT" not in q["sql"] for q in queries.captured_queries))
    # per digest only the claim (INSERT … ON CONFLICT DO NOTHING; UPDATE … RETURNING) and the
    # record (the delivery, the digest), one transaction each: rendering the chunk's e-mails
    # costs the same few queries for 1 digest or 3, and so does assembling them
    languages = 1  # the first chunk is English only; the second reads Chinese too: 1 query
    assert counts[1] - counts[0] <= CLAIM_AND_RECORD * (len(ids) - 2) + languages
    assert Delivery.objects.filter(status="sent").count() == len(ids)


@pytest.mark.django_db
def test_a_readers_long_lines_are_wrapped_as_the_reference_wraps_them(settings):
    # given readers whose brief and reasons are long enough to need wrapping of their own
    # (a Chinese brief of 2,000 bytes; three reasons of 400 characters on one card)
    settings.SITE_URL = "https://digest.example.org"
    settings.OPENAI_API_KEY = "sk-test"
    _day(4, llm=True)
    from digests.models import Digest, DigestItem
    from subscribers.models import Subscriber

    readers = list(Subscriber.objects.select_related("profile").order_by("pk"))
    digests = digests_assemble(subscribers=readers, issue_date=DAY)
    Digest.objects.filter(pk=digests[0].pk).update(brief="今日论文简报，" * 100 + "\n第二段 " * 30)
    Digest.objects.filter(pk=digests[1].pk).update(brief="word " * 400)
    first = DigestItem.objects.filter(digest=digests[2]).order_by("rank").first()
    first.reason = "\n".join(f"keyword: {'长理由' * 130} {n}" for n in range(3))
    first.save()
    digests = list(Digest.objects.filter(pk__in=[d.pk for d in digests]).order_by("pk"))
    for digest in digests:
        digest.subscriber = next(r for r in readers if r.pk == digest.subscriber_id)

    # when the chunk is rendered by the fast path
    fast = Composer().render_chunk(digests)

    # then each e-mail is the reference's, every line within RFC 5322's limit
    for digest in digests:
        reference = digest_render(digest)
        assert _tokens_masked(fast[digest.pk].html) == _tokens_masked(reference.html)
        assert max(len(x.encode()) for x in fast[digest.pk].html.split("\n")) <= 998
    assert "<wbr\n>" in fast[digests[0].pk].html  # the brief's Chinese was cut between characters


def test_short_values_are_compressed_exactly_when_django_would():
    import random
    import zlib

    from digests.mail.links import compressed

    rng = random.Random(7)
    values = [b"1" * n for n in range(1, 40)] + [b"[" + b"12" * n + b"]" for n in range(20)]
    for _ in range(20000):
        a = rng.choice([rng.randint(1, 10 ** rng.randint(1, 12)), int("37" * rng.randint(1, 5))])
        b = rng.choice([a, rng.randint(1, 10**9), int(str(a)[: rng.randint(1, len(str(a)))])])
        values.append(f'[{a},{b},"{rng.choice(["more", "less", "save"])}"]'.encode())
    wins = 0
    for data in values:
        packed = zlib.compress(data)
        expected = packed if len(packed) < len(data) - 1 else None
        assert compressed(data) == expected, data
        wins += expected is not None
    assert wins > 100  # the values that do compress were among them


def test_the_digests_own_links_are_djangos_tokens(settings, monkeypatch):
    from digests.mail.links import ChunkSigners
    from digests.models import Digest
    from digests.render import _manage_token, manage_token_read
    from subscribers.models import Subscriber
    from subscribers.tokens import digest_token, unsubscribe_token

    settings.SECRET_KEY = "s" * 50
    monkeypatch.setattr("time.time", lambda: 1_780_000_000.0)
    reader = Subscriber(pk=41, email="Reader@Example.org")
    digest = Digest(pk=977, subscriber=reader, issue_date=DAY)
    tokens = ChunkSigners.now().reader_tokens(digest)
    assert tokens["digest"] == digest_token(digest_id=977)
    assert tokens["unsubscribe"] == unsubscribe_token(subscriber_id=41, email=reader.email)
    assert tokens["manage"] == _manage_token(41)
    assert manage_token_read(tokens["manage"]) == 41


@pytest.mark.django_db(transaction=True)
def test_a_chunk_sends_several_at_once_and_each_digest_once_when_raced(settings):
    from concurrent.futures import ThreadPoolExecutor

    from django.core import mail
    from django.db import connections

    from digests.fanout import chunk_send, send_threads
    from subscribers.models import Subscriber

    if connection.vendor != "postgresql":
        pytest.skip("sending threads need a database with row-level concurrency (PostgreSQL)")
    # given readers due, sending 3 messages at once, through a backend that notes its thread
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SEND_CONCURRENCY = 3
    _day(3, llm=False)
    for n in range(6):
        make_subscriber(email=f"many{n}@example.org", keywords=["reinforcement learning"])
    ids = list(Subscriber.objects.order_by("pk").values_list("pk", flat=True))
    mail.outbox = []
    threads: set[str] = set()
    send = mail.EmailMultiAlternatives.send

    def noted(message: mail.EmailMultiAlternatives, *args: object, **kwargs: object) -> int:
        import threading

        threads.add(threading.current_thread().name)
        return send(message, *args, **kwargs)

    mail.EmailMultiAlternatives.send = noted  # type: ignore[method-assign]
    try:
        assert send_threads() == 3

        # when two workers run the same chunk at the same time
        def run(_: int) -> int:
            try:
                return chunk_send(issue_date=DAY, subscriber_ids=ids).sent
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=2) as pool:
            sent = sum(pool.map(run, range(2)))
    finally:
        mail.EmailMultiAlternatives.send = send  # type: ignore[method-assign]

    # then each digest went out once, from more than one sending thread
    assert sent == len(ids) == 10
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        Subscriber.objects.values_list("email", flat=True)
    )
    assert Delivery.objects.filter(status="sent", attempts=1).count() == len(ids)
    assert len({t for t in threads if t.startswith("send-")}) > 1
