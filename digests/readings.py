"""Which reading of a paper is shown in a language, and which day is "the latest".

A paper version has readings (`Enrichment`): one by the LLM per language under the current
prompt version, and one lexical (LLM-less, extractive, stored as English). Every place that
shows "the reading of these papers in this language" asks `readings_for`, in one query:

- the LLM reading in the language: exactly the reader's stored code (e-mail, previews, brief),
  or, for a page's Django language code (`loose=True`), any code of the same language, the
  shortest first ("zh" before "zh-cn");
- else, when a `stand_in` language is given (public pages: Chinese, the language every paper
  is read in first), the LLM reading in that language;
- the lexical reading beside it, which fills in a summary and a topic hit the LLM did not give.

Only readings of the paper's current version count; failed and skipped ones never do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Enrichment, IngestDay, Paper
from digests.scoring.lexical import LEXICAL_VERSION
from newsletter.i18n import language_for_translation

__all__ = [
    "CHINESE",
    "CURRENT_PROMPTS",
    "NO_READING",
    "SHOWN_STATUSES",
    "Reading",
    "latest_issue_date",
    "primary_language",
    "reading_for_language",
    "readings_for",
]

CHINESE = "zh"  # the stand-in of the public pages: every paper is read in Chinese first
SHOWN_STATUSES = [Enrichment.Status.OK, Enrichment.Status.LLM_LESS]  # failed ones never show
CURRENT_PROMPTS = [ENRICH_PROMPT_VERSION, LEXICAL_VERSION]


@dataclass(frozen=True)
class Reading:
    """What is shown of one paper version in one language."""

    llm: Enrichment | None  # the LLM reading in the language, else the stand-in's, else None
    lexical: Enrichment | None  # the LLM-less reading (extractive summary, lexical topic hits)
    in_language: bool  # `llm` is in the language asked for (not a stand-in)
    every_language: tuple[Enrichment, ...] = ()  # every LLM reading of the version, by code

    @property
    def language(self) -> str:
        """The language of the LLM reading's text; "" without one."""
        return self.llm.language if self.llm else ""

    @property
    def shown(self) -> tuple[Enrichment, ...]:
        """The readings whose topic hits are shown, the LLM's first."""
        return tuple(r for r in (self.llm, self.lexical) if r is not None)


NO_READING = Reading(llm=None, lexical=None, in_language=False)


def primary_language(code: str) -> str:
    """ "zh" for "zh-CN", "zh_Hans" or "zh"."""
    return code.replace("_", "-").split("-")[0].lower()


def _same_language(code: str, language: str) -> bool:
    # Both tests: a language without a catalogue (fr) maps to English, yet is not English.
    same_base = primary_language(code) == primary_language(language)
    return same_base and language_for_translation(code) == language_for_translation(language)


def reading_for_language(
    readings: Iterable[Enrichment],
    *,
    language: str,
    loose: bool = False,
    stand_in: str | None = None,
) -> Enrichment | None:
    """Of one paper version's readings, the LLM one shown in `language` (see the module doc).

    `loose`: `language` is a page's language, matched by language rather than by exact code.
    `stand_in`: the primary language whose reading is shown when none is in `language`.
    """
    llm = sorted(
        (
            r
            for r in readings
            if r.status == Enrichment.Status.OK and r.prompt_version == ENRICH_PROMPT_VERSION
        ),
        key=lambda r: r.language,  # "zh" before "zh-cn"
    )
    if loose:
        found = next((r for r in llm if _same_language(r.language, language)), None)
    else:
        found = next((r for r in llm if r.language == language), None)
    if found is None and stand_in is not None:
        found = next((r for r in llm if primary_language(r.language) == stand_in), None)
    return found


def readings_for(
    papers: Iterable[Paper],
    language: str,
    *,
    loose: bool = False,
    stand_in: str | None = None,
) -> dict[int, Reading]:
    """Per paper id, what is shown of its current version in `language`: one query.

    Every paper has an entry (`NO_READING` when nothing was read). The defaults are the
    reader's: their exact language code and no stand-in (an unread paper goes out in English).
    Public pages pass `loose=True, stand_in=CHINESE`.
    """
    versions = {paper.pk: paper.version for paper in papers}
    if not versions:
        return {}
    held: dict[int, list[Enrichment]] = defaultdict(list)
    rows = Enrichment.objects.filter(
        paper__in=list(versions), status__in=SHOWN_STATUSES, prompt_version__in=CURRENT_PROMPTS
    )
    for row in rows:
        if row.paper_version == versions[row.paper_id]:  # not a reading of an older version
            held[row.paper_id].append(row)
    found = {}
    for paper_id in versions:
        readings = held.get(paper_id)
        if not readings:
            found[paper_id] = NO_READING
            continue
        llm = reading_for_language(readings, language=language, loose=loose, stand_in=stand_in)
        found[paper_id] = Reading(
            llm=llm,
            lexical=next((r for r in readings if r.prompt_version == LEXICAL_VERSION), None),
            in_language=llm is not None
            and (_same_language(llm.language, language) if loose else llm.language == language),
            every_language=tuple(
                sorted(
                    (
                        r
                        for r in readings
                        if r.status == Enrichment.Status.OK
                        and r.prompt_version == ENRICH_PROMPT_VERSION
                    ),
                    key=lambda r: r.language,
                )
            ),
        )
    return found


def latest_issue_date(
    on_or_before: dt.date | None = None,
    *,
    source: Literal["ingest", "papers", "ingest-or-papers"] = "ingest",
) -> dt.date | None:
    """The most recent announcement day (on or before `on_or_before`), None if there is none.

    `source`: "ingest", the last day ingested as announced (what the pipeline enriches and
    sends); "papers", the newest day a paper is filed under (public pages and the profile
    editor's preview: papers loaded by hand, or being ingested, count); "ingest-or-papers",
    the ingested day, else the papers' (staff previews).
    """
    if source in ("ingest", "ingest-or-papers"):
        days = IngestDay.objects.filter(status=IngestDay.Status.ANNOUNCED)
        if on_or_before is not None:
            days = days.filter(date__lte=on_or_before)
        day = days.order_by("-date").values_list("date", flat=True).first()
        if day is not None or source == "ingest":
            return day
    papers = Paper.objects.filter(announce_date__isnull=False)  # not papers fetched as seeds
    if on_or_before is not None:
        papers = papers.filter(announce_date__lte=on_or_before)
    return papers.order_by("-announce_date").values_list("announce_date", flat=True).first()
