"""Benchmark bioRxiv/medRxiv ingestion: a day of 600 bioRxiv + 200 medRxiv records (the real
recorded ones, copied under new DOIs) served over real HTTP by the local stand-in.

Prints requests, records read, rows written per second and peak memory; then the same window
read again (idempotent: nothing written). Runs on a throw-away SQLite database unless
DATABASE_URL is set.

    .venv/bin/python bench/ingest_biorxiv.py [--biorxiv 600] [--medrxiv 200] [--delay 0]
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

DAY = dt.date(2026, 6, 18)  # a Thursday: its window is Wednesday's postings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--biorxiv", type=int, default=600)
    parser.add_argument("--medrxiv", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.0, help="BIORXIV_REQUEST_DELAY (s)")
    args = parser.parse_args()

    django_ready("bench-biorxiv-")
    from django.test.utils import override_settings

    from devtools.biorxiv_replay import RecordedPreprints, biorxiv_server_start
    from digests.biorxiv.client import BiorxivSession, BiorxivThrottle
    from digests.biorxiv.ingest import preprints_ingest
    from digests.models import Paper

    Paper.objects.filter(source__in=["biorxiv", "medrxiv"]).delete()
    wanted = {"biorxiv": args.biorxiv, "medrxiv": args.medrxiv}
    copies = math.ceil(max(wanted.values()) / 100)
    recorded = RecordedPreprints.load(redate=DAY - dt.timedelta(days=1), copies=copies)
    for name, count in wanted.items():
        recorded.records[name] = recorded.records[name][:count]
    server = biorxiv_server_start(recorded)
    print(f"{args.biorxiv} bioRxiv + {args.medrxiv} medRxiv records, served at {server.base_url}")
    try:
        with override_settings(BIORXIV_API_URL=server.base_url, BIORXIV_REQUEST_DELAY=0):
            for run in ("first read", "read again"):
                session = BiorxivSession(BiorxivThrottle(args.delay))
                started = time.perf_counter()
                report = preprints_ingest(
                    day=DAY, categories=["biorxiv:*", "medrxiv:*"], session=session
                )
                seconds = time.perf_counter() - started
                rows = report.created + report.updated
                print(
                    f"{run}: {report.requests} requests, {report.records} records read, "
                    f"{report.created} new, {report.updated} changed, {report.unchanged} "
                    f"unchanged, {report.withdrawn} withdrawn, {len(report.skipped)} skipped; "
                    f"{seconds:.2f} s, {report.records / seconds:,.0f} records/s, "
                    f"{rows / seconds:,.0f} rows written/s"
                )
    finally:
        server.shutdown()
        server.server_close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB; papers held: {Paper.objects.count()}")


if __name__ == "__main__":
    main()
