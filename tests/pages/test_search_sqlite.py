"""Search in the embedded mode: SQLite's FTS5 backend, on a database migrated as `make demo`
migrates it (a separate process: the suite's own database is PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = r"""
import datetime as dt, json
from django.db import connection
from digests.models import Paper
from pages.search import SearchFilters, fts_index_ensure, paper_search

assert connection.vendor == "sqlite"
day = dt.date(2026, 6, 18)
def make(arxiv_id, title, abstract, names, categories, announce_date=day):
    return Paper.objects.create(
        arxiv_id=arxiv_id, title=title, abstract=abstract, categories=categories,
        primary_category=categories[0], authors=[{"name": n} for n in names],
        announce_date=announce_date, announce_type="new",
    )
make("2606.00001", "Diffusion models for protein design", "We generate.", ["Ada Lovelace"],
     ["q-bio.BM"])
make("2606.00002", "Generative structures", "Diffusion and models.", ["Grace Hopper"], ["cs.LG"])
make("2606.00003", "Diffusion models again", "Later.", ["Émile Borel"], ["cs.CV"],
     day + dt.timedelta(1))
gone = make("2606.00004", "Diffusion to delete", "x", ["Nobody"], ["cs.CV"])

def ids(text, **filters):
    found = paper_search(text=text, filters=SearchFilters(**filters))
    by_pk = Paper.objects.in_bulk(found)
    return [by_pk[pk].arxiv_id for pk in found]

out = {}
gone.delete()
out["ranked"] = ids("diffusion models")
out["author"] = ids("lovelace")
out["unaccented"] = ids("emile borel")
out["category"] = ids("diffusion", category="cs.CV")
out["day"] = ids("diffusion", day=day)
out["source"] = ids("diffusion", source="biorxiv")
out["operators"] = ids('NEAR( "a" * OR title: ^ -- \' ; DROP TABLE x')
out["unicode"] = ids("扩散模型 🧬 \u202e")
Paper.objects.filter(arxiv_id="2606.00002").update(title="Renamed kinetics")
out["updated"] = ids("kinetics")
# A migration that rebuilds digests_paper drops its triggers; the post-migrate hook repairs.
with connection.cursor() as cursor:
    cursor.execute("DROP TRIGGER digests_paper_fts_insert")
make("2606.00005", "Made without the trigger", "x", ["A B"], ["cs.CL"])
out["repaired"] = fts_index_ensure()
out["after_repair"] = ids("trigger")
out["again"] = fts_index_ensure()
print("RESULT " + json.dumps(out))
"""


def test_sqlite_fts5_backend_ranks_filters_and_keeps_its_index(tmp_path: Path):
    # given the embedded database, migrated from nothing
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DATA_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "memory://",
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=REPO, timeout=300)

    # when papers are added, changed, removed and searched
    done = subprocess.run(
        [*manage, "shell", "-c", SCRIPT],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    found = json.loads(line.removeprefix("RESULT "))

    # then FTS5 finds them as PostgreSQL does: title before abstract, authors, filters
    assert set(found["ranked"][:2]) == {"2606.00001", "2606.00003"}  # in their titles
    assert found["ranked"][-1] == "2606.00002"  # the words only in its abstract
    assert "2606.00004" not in found["ranked"]  # deleted: gone from the index too
    assert found["author"] == ["2606.00001"]
    assert found["unaccented"] == ["2606.00003"]  # remove_diacritics
    assert found["category"] == ["2606.00003"]
    assert sorted(found["day"]) == ["2606.00001", "2606.00002"]
    assert found["source"] == []
    assert found["operators"] == [] and found["unicode"] == []
    assert found["updated"] == ["2606.00002"]
    assert found["repaired"] is True and found["again"] is False
    assert found["after_repair"] == ["2606.00005"]
