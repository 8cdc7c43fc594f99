"""Write a day folder in arXiv's formats (RSS feeds + API Atom) from plain records.

For tests and benchmarks that need days the recordings do not have: a new version of a known
paper, hostile text, thousands of items. The layout is the one `arxiv_replay` serves, and the
XML follows the recorded responses element for element.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["FakePaper", "day_write"]

_RSS_HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" \
version="2.0">
  <channel>
    <title>{category} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{category}</link>
    <description>{category} updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/{category}" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{build}</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{pub}</pubDate>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>
"""
_RSS_ITEM = """    <item>
      <title>{title}</title>
      <link>https://arxiv.org/abs/{id}</link>
      <description>arXiv:{id}v{v} Announce Type: {type} \nAbstract: {abstract}</description>
      <guid isPermaLink="false">oai:arXiv.org:{id}v{v}</guid>
{categories}      <pubDate>{pub}</pubDate>
      <arxiv:announce_type>{type}</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
      <dc:creator>{creators}</dc:creator>
    </item>
"""
_API_HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" \
xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/synthetic</id>
  <title>arXiv Query: search_query=&amp;id_list=&amp;start=0&amp;max_results=100</title>
  <updated>{updated}</updated>
  <link href="https://arxiv.org/api/query?search_query=&amp;start=0&amp;max_results=100" \
type="application/atom+xml"/>
  <opensearch:itemsPerPage>100</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
"""
_API_ENTRY = """  <entry>
    <id>http://arxiv.org/abs/{id}v{v}</id>
    <title>{title}</title>
    <updated>{updated}</updated>
    <link href="https://arxiv.org/abs/{id}v{v}" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/{id}v{v}" rel="related" type="application/pdf" title="pdf"/>
    <summary>{abstract}</summary>
{categories}    <published>{published}</published>
{extras}    <arxiv:primary_category term="{primary}"/>
{authors}  </entry>
"""


@dataclass
class FakePaper:
    arxiv_id: str
    title: str
    abstract: str = "We study a problem and report results."
    version: int = 1
    announce_type: str = "new"
    categories: list[str] = field(default_factory=lambda: ["cs.CL"])
    authors: list[tuple[str, list[str]]] = field(default_factory=lambda: [("Ada Lovelace", [])])
    comment: str = ""
    journal_ref: str = ""
    doi: str = ""


def _rss_date(day: dt.date) -> str:
    return day.strftime("%a, %d %b %Y 00:00:00 -0400")


def day_write(folder: Path, day: dt.date, papers: list[FakePaper]) -> Path:
    """Write `folder/<day>/rss/<category>.xml` for every category and `api/query.xml`."""
    root = folder / day.isoformat()
    (root / "rss").mkdir(parents=True, exist_ok=True)
    (root / "api").mkdir(parents=True, exist_ok=True)
    pub = _rss_date(day)
    build = day.strftime("%a, %d %b %Y 04:00:02 +0000")
    by_category: dict[str, list[str]] = {}
    for paper in papers:
        for category in paper.categories:
            own = category == paper.categories[0]
            kind = (
                paper.announce_type
                if own
                else ("replace-cross" if paper.announce_type.startswith("replace") else "cross")
            )
            by_category.setdefault(category, []).append(
                _RSS_ITEM.format(
                    id=paper.arxiv_id,
                    v=paper.version,
                    type=kind,
                    title=escape(paper.title),
                    abstract=escape(paper.abstract),
                    pub=pub,
                    categories="".join(
                        f"      <category>{c}</category>\n" for c in paper.categories
                    ),
                    creators=escape(", ".join(name for name, _ in paper.authors)),
                )
            )
    for category, items in by_category.items():
        head = _RSS_HEAD.format(category=category, build=build, pub=pub)
        (root / "rss" / f"{category}.xml").write_text(
            head + "".join(items) + "  </channel>\n</rss>\n", encoding="utf-8"
        )
    updated = f"{(day - dt.timedelta(days=1)).isoformat()}T17:00:00Z"
    entries = []
    for paper in papers:
        extras = "".join(
            f"    <arxiv:{tag}>{escape(value)}</arxiv:{tag}>\n"
            for tag, value in (
                ("comment", paper.comment),
                ("journal_ref", paper.journal_ref),
                ("doi", paper.doi),
            )
            if value
        )
        authors = "".join(
            "    <author>\n      <name>"
            + escape(name)
            + "</name>\n"
            + "".join(f"      <arxiv:affiliation>{escape(a)}</arxiv:affiliation>\n" for a in affs)
            + "    </author>\n"
            for name, affs in paper.authors
        )
        entries.append(
            _API_ENTRY.format(
                id=paper.arxiv_id,
                v=paper.version,
                title=escape(paper.title),
                abstract=escape(paper.abstract),
                updated=updated,
                published=updated,
                categories="".join(
                    f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>\n'
                    for c in paper.categories
                ),
                extras=extras,
                primary=paper.categories[0],
                authors=authors,
            )
        )
    (root / "api" / "query.xml").write_text(
        _API_HEAD.format(updated=updated, total=len(papers)) + "".join(entries) + "</feed>\n",
        encoding="utf-8",
    )
    return root
