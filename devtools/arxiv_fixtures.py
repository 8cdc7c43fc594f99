"""Write a day folder in arXiv's formats (RSS feeds, API Atom, HTML pages) from plain records.

For tests and benchmarks that need days the recordings do not have: a new version of a known
paper, hostile text, thousands of items. The layout is the one `arxiv_replay` serves, and the
XML follows the recorded responses element for element.

Where a paper's affiliations are published is the paper's `affiliations_in`: "api" puts them
in the API entry (`<arxiv:affiliation>`, which few real entries have), "html" only on the
paper's HTML page (`html/<id>v<n>.html`, arXiv's LaTeXML rendering), as on most real days.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from html import escape as html_escape
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

__all__ = ["FakePaper", "day_write", "html_page"]

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
_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta content="text/html; charset=utf-8" http-equiv="content-type"/>
<title>{title}</title>
<!--Generated on {generated} by LaTeXML (version 0.8.8) http://dlmf.nist.gov/LaTeXML/.-->
<meta content="width=device-width, initial-scale=1, shrink-to-fit=no" name="viewport"/>
<link href="/static/browse/0.3.4/css/ar5iv.0.7.9.min.css" rel="stylesheet" type="text/css"/>
<link href="/static/browse/0.3.4/css/latexml_styles.css" rel="stylesheet" type="text/css"/>
<base href="/html/{id}v{v}/"/></head>
<body>
<div class="ltx_page_main">
<div class="ltx_page_content">
<article class="ltx_document ltx_authors_1line">
<h1 class="ltx_title ltx_title_document">{title}</h1>
<div class="ltx_authors">
{authors}</div>
<div class="ltx_abstract">
<h6 class="ltx_title ltx_title_abstract">Abstract</h6>
<p class="ltx_p" id="id{n}.id1">{abstract}</p>
</div>
<section class="ltx_section" id="S1">
<h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">1 </span>\
Introduction</h2>
<div class="ltx_para" id="S1.p1">
<p class="ltx_p" id="S1.p1.1">We state the problem, then outline our approach.</p>
</div>
</section>
</article>
</div>
<footer class="ltx_page_footer">
<div class="ltx_page_logo">Generated on {generated} by <a class="ltx_LaTeXML_logo" \
href="http://dlmf.nist.gov/LaTeXML/">LaTeXML</a></div>
</footer>
</div>
</body>
</html>
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
    affiliations_in: Literal["api", "html"] = "api"  # where arXiv publishes them


def _rss_date(day: dt.date) -> str:
    return day.strftime("%a, %d %b %Y 00:00:00 -0400")


def _html_author(number: int, name: str, affiliations: list[str], marks: dict[str, int]) -> str:
    """One author block as LaTeXML writes it: the name, with superscripts numbering its
    affiliations when the paper has several (`marks`), then the author notes: each affiliation,
    and the first author's e-mail (also on a second line of the name block, as pages have it)."""
    sup = ",".join(str(marks[a]) for a in affiliations if a in marks)
    sup = f'<sup class="ltx_sup" id="id{number}.{number}.id1">{sup}</sup>' if sup else ""
    email = f"{_name_slug(name)}@example.org" if number == 1 else ""
    line = f'<br class="ltx_break"/>{html_escape(email)}\n' if email else "\n"
    notes = "".join(
        f'<span class="ltx_contact ltx_role_affiliation">{html_escape(a)}</span>\n'
        for a in affiliations
    )
    if email:
        notes += (
            f'<span class="ltx_contact ltx_role_email"><a class="ltx_ref ltx_href" '
            f'href="mailto:{html_escape(email)}">{html_escape(email)}</a></span>\n'
        )
    before = '<span class="ltx_author_before">  </span>' if number > 1 else ""
    return (
        f'{before}<span class="ltx_creator ltx_role_author">\n'
        f'<span class="ltx_personname">{html_escape(name)}{sup}{line}</span>'
        + (f'<span class="ltx_author_notes">\n{notes}</span>' if notes else "")
        + "</span>\n"
    )


def _name_slug(name: str) -> str:
    """An ASCII mailbox made from a name ("Björn Nair" → "bjorn.nair")."""
    plain = unicodedata.normalize("NFKD", name).lower()
    words = ["".join(c for c in w if c.isascii() and c.isalnum()) for w in plain.split()]
    return ".".join(w for w in words if w) or "author"


def html_page(paper: FakePaper, day: dt.date) -> str:
    """The paper's HTML page as arXiv renders it with LaTeXML, affiliations marked."""
    distinct = list(dict.fromkeys(a for _, affiliations in paper.authors for a in affiliations))
    marks = {a: k for k, a in enumerate(distinct, start=1)} if len(distinct) > 1 else {}
    return _HTML_PAGE.format(
        id=paper.arxiv_id,
        v=paper.version,
        n=len(paper.authors) + 1,
        title=html_escape(paper.title),
        abstract=html_escape(paper.abstract),
        generated=(day - dt.timedelta(days=2)).strftime("%a %b %d %H:%M:%S %Y"),
        authors="".join(
            _html_author(number, name, affiliations, marks)
            for number, (name, affiliations) in enumerate(paper.authors, start=1)
        ),
    )


def day_write(folder: Path, day: dt.date, papers: list[FakePaper]) -> Path:
    """Write `folder/<day>/rss/<category>.xml` for every category, `api/query.xml`, and
    `html/<id>v<n>.html` for each paper whose affiliations are on its HTML page."""
    unknown = {p.affiliations_in for p in papers} - {"api", "html"}
    if unknown:
        raise ValueError(f"affiliations_in must be 'api' or 'html', not {sorted(unknown)}")
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
        in_api = paper.affiliations_in == "api"  # else only on the HTML page
        authors = "".join(
            "    <author>\n      <name>"
            + escape(name)
            + "</name>\n"
            + "".join(
                f"      <arxiv:affiliation>{escape(a)}</arxiv:affiliation>\n"
                for a in (affs if in_api else [])
            )
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
    on_pages = [paper for paper in papers if paper.affiliations_in == "html"]
    if on_pages:
        (root / "html").mkdir(exist_ok=True)
    for paper in on_pages:
        page = root / "html" / f"{paper.arxiv_id}v{paper.version}.html"
        page.write_text(html_page(paper, day), encoding="utf-8")
    return root
