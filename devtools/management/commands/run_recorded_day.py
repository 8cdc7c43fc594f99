"""`run_recorded_day [FOLDER]`: run_daily against a recorded arXiv day served on 127.0.0.1.

For the demo and for trying the service without a network: the recorded feeds, API answers
and HTML pages (`html/<id>v<n>.html`, for affiliations; a paper without one answers 404, as on
arXiv) are served over real HTTP and the pipeline reads them through its real clients.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from devtools.arxiv_replay import replay_server_start
from devtools.llm_stub import LLMStub, canned_from_recorded, llm_stub_start
from digests.daily import daily_run
from digests.models import Topic
from newsletter.cli import progress_bar

DEFAULT_DAY = Path(settings.BASE_DIR) / "devtools" / "recorded" / "2026-06-18"


def _recorded_llm(day_folder: Path) -> LLMStub:
    if not (day_folder / "enrichments.zh.json").is_file():
        raise CommandError(f"{day_folder}: no enrichments.zh.json of recorded readings")
    names = {topic.name("zh"): topic.slug for topic in Topic.objects.all()}
    return llm_stub_start(canned=canned_from_recorded(day_folder, topic_slugs_by_name=names))


class Command(BaseCommand):
    help = "Run the daily pipeline on a recorded arXiv day (default: the shipped demo day)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", nargs="?", default=str(DEFAULT_DAY))
        parser.add_argument(
            "--llm-stub",
            action="store_true",
            help="answer LLM calls from the folder's recorded readings (enrichments.zh.json) "
            "through the local stub server, instead of the configured LLM or LLM-less mode",
        )

    def handle(self, *args, folder: str, llm_stub: bool, **options) -> None:
        day_folder = Path(folder)
        try:
            day = dt.date.fromisoformat(day_folder.name)
        except ValueError:
            raise CommandError(
                f"{folder}: the folder's name must be its date, e.g. 2026-06-18"
            ) from None
        if not (day_folder / "rss").is_dir():
            raise CommandError(f"{folder}: no rss/ folder of recorded feeds")
        server = replay_server_start(day_folder)
        stub = _recorded_llm(day_folder) if llm_stub else None
        llm = (
            {
                "OPENAI_API_KEY": "recorded",
                "OPENAI_BASE_URL": stub.base_url,
                "LLM_MODEL": "recorded",
            }
            if stub
            else {}
        )
        try:
            with (
                override_settings(
                    **llm,
                    ARXIV_RSS_URL=server.rss_url,
                    ARXIV_API_URL=server.api_url,
                    ARXIV_HTML_URL=server.html_url,
                    ARXIV_REQUEST_DELAY=0,
                ),
                progress_bar("ingesting") as ingest_bar,
                progress_bar("sending") as send_bar,
            ):
                ingest, send = daily_run(
                    date=day, ingest_progress=ingest_bar.update, send_progress=send_bar.update
                )
        finally:
            server.shutdown()
            server.server_close()
            if stub:
                stub.stop()
        self.stdout.write(ingest.summary())
        self.stdout.write(send.summary())
        self.stdout.write(f"outbox: {settings.EMAIL_FILE_PATH}")
