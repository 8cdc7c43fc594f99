"""Benchmark ingestion: a synthetic day of N items across C categories from the local stub.

Prints the number of requests (feeds and API), rows written per second, and peak memory.
Runs on a throw-away SQLite database unless DATABASE_URL is set.

    .venv/bin/python bench/ingest.py --items 2000 --categories 20 --delay 0
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_ready


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.0, help="ARXIV_REQUEST_DELAY (s)")
    args = parser.parse_args()

    workdir = django_ready("bench-ingest-")
    from django.test.utils import override_settings

    from devtools.arxiv_fixtures import FakePaper, day_write
    from devtools.arxiv_replay import replay_server_start
    from digests import ingest
    from digests.models import Paper

    day = dt.date(2026, 6, 18)
    categories = [f"cs.{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(args.categories)]
    papers = [
        FakePaper(
            f"2606.{20000 + n:05d}",
            f"Synthetic paper {n} on topic {n % 97}",
            abstract=" ".join(f"word{(n * 7 + k) % 1000}" for k in range(180)),
            categories=[categories[n % len(categories)], categories[(n * 3 + 1) % len(categories)]],
            authors=[(f"Author {n}-{k}", [f"University {k}"]) for k in range(6)],
            announce_type="new" if n % 3 else "replace",
            version=1 if n % 3 else 2,
        )
        for n in range(args.items)
    ]
    folder = day_write(workdir / "days", day, papers)
    server = replay_server_start(folder)
    rss_before = _peak_rss_mib()
    started = time.perf_counter()
    with override_settings(
        ARXIV_RSS_URL=server.rss_url,
        ARXIV_API_URL=server.api_url,
        ARXIV_REQUEST_DELAY=args.delay,
    ):
        report = ingest.day_ingest(categories=categories, date=day)
    elapsed = time.perf_counter() - started
    server.shutdown()

    feed_requests = sum(1 for p in server.recorded.requests if p.startswith("/rss/"))
    api_requests = sum(1 for p in server.recorded.requests if p.startswith("/api/query"))
    rows = Paper.objects.count()
    print(f"items announced        {args.items} across {args.categories} categories")
    print(f"papers stored          {rows} ({report.created} new)")
    print(f"feed requests          {feed_requests}")
    print(
        f"API requests           {api_requests} (ceil({rows}/{ingest.API_BATCH}) = "
        f"{math.ceil(rows / ingest.API_BATCH)})"
    )
    print(f"politeness delay       {args.delay:g} s between requests")
    print(f"wall time              {elapsed:.2f} s")
    print(f"rows written / second  {rows / elapsed:.0f}")
    print(
        f"peak RSS               {_peak_rss_mib():.0f} MiB (before ingesting: {rss_before:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
