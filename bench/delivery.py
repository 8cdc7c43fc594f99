"""Benchmark rendering and sending: digests rendered per second, and sends through the ESP stub.

Ingests the recorded demo day (2026-06-18) from the local replay server, reads it lexically,
times the reference `digest_render`, the fast path (`digests.mail.compose`, warm) and bare
`mjml2html` of each digest's finished MJML over `--render-readers` digests (and checks the
fast HTML equals the reference's), then times `delivery_send` over `--send`
digests through Anymail's real Postmark backend pointed at the local stub ESP. One process, so
the rates are per core. Runs on a throw-away SQLite database unless DATABASE_URL is set.

    .venv/bin/python bench/delivery.py                  # 200 rendered, 10,000 sent
    .venv/bin/python bench/delivery.py --send 1000      # a quicker look

Sending 10,000 takes about 5 minutes on one core (~28 ms each, rendering included); a smaller
--send prints its extrapolation to 10,000, labelled as such.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_ready
from bench.scoring import busy_seconds

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 6, 18)
CATEGORIES = ["cs.AI", "cs.CL", "cs.LG"]
HTML_LIMIT_KB = 102
CHUNK = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render-readers", type=int, default=200)
    parser.add_argument("--send", type=int, default=10000)
    parser.add_argument(
        "--repeat", type=int, default=7, help="timings of the fast path and of bare mjml2html"
    )
    args = parser.parse_args()

    django_ready("bench-delivery-")
    logging.disable(logging.INFO)  # one "sent digest N" line per message would drown the result
    from django.test.utils import override_settings

    from devtools.arxiv_replay import replay_server_start
    from devtools.esp_stub import esp_stub_start
    from digests.assemble import digests_assemble
    from digests.delivery import SendOutcome, delivery_send
    from digests.enrich import lexical_enrich
    from digests.ingest import day_ingest
    from digests.models import Paper
    from digests.render import digest_render
    from subscribers.models import InterestProfile, Subscriber

    # The demo day, ingested from the replay server and read lexically.
    server = replay_server_start(ROOT / "devtools" / "recorded" / DAY.isoformat())
    with override_settings(
        ARXIV_RSS_URL=server.rss_url, ARXIV_API_URL=server.api_url, ARXIV_REQUEST_DELAY=0
    ):
        day_ingest(categories=CATEGORIES, date=DAY)
    server.shutdown()
    papers = list(Paper.objects.filter(announce_date=DAY))
    lexical_enrich(papers)

    def readers_create(prefix: str, count: int, **profile: object) -> list[Subscriber]:
        subscribers = Subscriber.objects.bulk_create(
            Subscriber(email=f"{prefix}{n}@example.org", status=Subscriber.Status.ACTIVE)
            for n in range(count)
        )
        InterestProfile.objects.bulk_create(
            InterestProfile(subscriber=s, **profile) for s in subscribers
        )
        return list(
            Subscriber.objects.filter(email__startswith=prefix)
            .select_related("profile")
            .order_by("pk")
        )

    def assemble(subscribers: list[Subscriber]) -> list:
        digests = []
        for start in range(0, len(subscribers), CHUNK):
            digests += digests_assemble(
                subscribers=subscribers[start : start + CHUNK], issue_date=DAY
            )
        return digests

    # 1. Render throughput.
    render_readers = readers_create(
        "render",
        args.render_readers,
        keywords=["reinforcement learning", "language models"],
        categories=["cs.LG", "cs.CL"],
        min_relevance=1,
        max_items=20,
    )
    to_render = assemble(render_readers)
    items = sum(d.items.count() for d in to_render)
    started = time.perf_counter()
    slow = {d.pk: digest_render(d) for d in to_render}  # the reference: per reader
    reference_seconds = time.perf_counter() - started
    from mjml import mjml2html

    from digests.mail.compose import Composer

    composer = Composer()
    composer.render_chunk(to_render)  # the day's cards and layouts, compiled once (untimed)
    finals = [_finished_mjml(d) for d in to_render]
    render_seconds = floor_seconds = float("inf")
    busy_before, clock_before = busy_seconds(), time.perf_counter()
    for _ in range(args.repeat):  # interleaved, best of each: the machine is shared
        started = time.perf_counter()
        fast = composer.render_chunk(to_render)
        render_seconds = min(render_seconds, time.perf_counter() - started)
        started = time.perf_counter()
        for source in finals:
            mjml2html(source, disable_comments=True)
        floor_seconds = min(floor_seconds, time.perf_counter() - started)
    busy = (busy_seconds() - busy_before) / (time.perf_counter() - clock_before)
    same = sum(_masked(fast[d.pk].html) == _masked(slow[d.pk].html) for d in to_render)
    sizes = [len(fast[d.pk].html.encode()) / 1024 for d in to_render]

    # 2. Sending through Anymail's Postmark backend to the local stub.
    send_readers = readers_create(
        "send", args.send, keywords=["language models"], categories=["cs.CL"], min_relevance=1
    )
    started = time.perf_counter()
    to_send = assemble(send_readers)
    assemble_seconds = time.perf_counter() - started
    stub = esp_stub_start()
    outcomes: dict[str, int] = {}
    with override_settings(
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        ANYMAIL={"POSTMARK_SERVER_TOKEN": "test-token", "POSTMARK_API_URL": stub.api_url},
    ):
        started = time.perf_counter()
        for digest in to_send:
            outcome = delivery_send(digest=digest)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        send_seconds = time.perf_counter() - started
    stub.stop()
    send_items = sum(d.items.count() for d in to_send) / len(to_send)
    sent = outcomes.get(SendOutcome.SENT, 0)
    per_message = send_seconds / len(to_send)

    print(f"papers in the demo day   {len(papers)} ({', '.join(CATEGORIES)})")
    print(f"render: digests          {len(to_render)} ({items / len(to_render):.1f} items each)")
    floor_rate = len(to_render) / floor_seconds
    fast_rate = len(to_render) / render_seconds
    reference_rate = len(to_render) / reference_seconds
    print(f"render: reference        {reference_rate:.1f} digests/s (digest_render)")
    print(f"render: fast path        {fast_rate:.1f} digests/s (Composer.render_chunk, warm: "
          "items loaded, links signed, HTML, text and subject)")  # fmt: skip
    print(f"render: bare mjml2html   {floor_rate:.1f} digests/s (each digest's finished MJML)")
    print(f"render: fast / floor     {fast_rate / floor_rate:.2f}x (target 1x, bar 0.6x; "
          f"best of {args.repeat} each, interleaved)")  # fmt: skip
    print(
        f"render: machine          {busy:.2f} of {os.cpu_count()} cores busy meanwhile "
        f"(this run included; load average {os.getloadavg()[0]:.2f})"
    )
    print(f"render: same HTML        {same} of {len(to_render)} as the reference (links masked)")
    print(f"render: HTML mean size   {sum(sizes) / len(sizes):.1f} KB")
    print(
        f"render: HTML max size    {max(sizes):.1f} KB "
        f"({'OK' if max(sizes) < HTML_LIMIT_KB else 'OVER'} the {HTML_LIMIT_KB} KB limit)"
    )
    print(
        f"send: digests assembled  {len(to_send)} in {assemble_seconds:.1f} s "
        f"({send_items:.1f} items each)"
    )
    print(f"send: outcomes           {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}")
    print(f"send: wall time          {send_seconds:.1f} s (sequential)")
    print(f"send: messages / second  {len(to_send) / send_seconds:.1f}")
    print(
        f"send: stub received      {len(stub.messages)} "
        f"({'equals' if len(stub.messages) == sent else 'DIFFERS FROM'} {sent} sent)"
    )
    print(f"send: time per message   {per_message * 1000:.1f} ms (render + HTTP + DB)")
    if len(to_send) < 10000:
        print(
            f"send: 10,000 messages    ~{per_message * 10000:.0f} s "
            f"(extrapolated from {len(to_send)}, not measured)"
        )


def _masked(html: str) -> str:
    import re

    return re.sub(r"/([ufdms])/[^/\"]+/", r"/\1/TOKEN/", html)


def _finished_mjml(digest: object) -> str:
    """The MJML the reference compiles last for `digest`: its e-mail as sent."""
    import digests.render as reference

    sources: list[str] = []
    compile_ = reference.mjml2html

    def recorded(source: str, **options: Any) -> str:
        sources.append(source)
        return compile_(source, **options)

    reference.mjml2html = recorded  # type: ignore[assignment]
    try:
        reference.digest_render(digest)  # type: ignore[arg-type]
    finally:
        reference.mjml2html = compile_
    return sources[-1]


if __name__ == "__main__":
    main()
