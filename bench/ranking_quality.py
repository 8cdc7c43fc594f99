"""Ranking quality on the shipped labelled set: nDCG@10 and precision@10, scorer vs baselines.

The set (`bench/data/ranking_labels.json`) holds realistic profiles over real arXiv papers,
each label graded 0–2 with its reason. Papers are read in place from the demo day and
../shared/arxiv-recorded; topic hits come from the lexical reading (no LLM).

    .venv/bin/python bench/ranking_quality.py [--labels bench/data/ranking_labels.json]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from digests.scoring.lexical import TopicTerms, lexical_topic_hits  # noqa: E402
from digests.scoring.rows import PaperRow, ProfileRow  # noqa: E402
from digests.scoring.scores import scores_compute  # noqa: E402

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
K = 10


def _id(raw: str) -> str:
    raw = raw.strip().rsplit("/abs/", 1)[-1].removeprefix("oai:arXiv.org:")
    return re.sub(r"v\d+$", "", raw)


def _text(element: Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _atom(root: Element) -> list[dict]:
    papers = []
    for entry in root.iter(f"{ATOM}entry"):
        primary = entry.find(f"{ARXIV}primary_category")
        categories = [c.get("term", "") for c in entry.findall(f"{ATOM}category")]
        if primary is not None and primary.get("term") in categories:
            categories.remove(primary.get("term"))
            categories.insert(0, primary.get("term"))
        authors = entry.findall(f"{ATOM}author")
        papers.append(
            {
                "id": _id(entry.findtext(f"{ATOM}id", "")),
                "title": _text(entry.find(f"{ATOM}title")),
                "abstract": _text(entry.find(f"{ATOM}summary")),
                "authors": [_text(a.find(f"{ATOM}name")) for a in authors],
                "affiliations": [
                    _text(x) for a in authors for x in a.findall(f"{ARXIV}affiliation")
                ],
                "categories": categories,
            }
        )
    return papers


def _rss(root: Element) -> list[dict]:
    papers = []
    for item in root.iter("item"):
        description = item.findtext("description", "")
        papers.append(
            {
                "id": _id(item.findtext("guid", "")),
                "title": _text(item.find("title")),
                "abstract": " ".join(description.split("Abstract:", 1)[-1].split()),
                "authors": [
                    a.strip() for a in item.findtext(f"{DC}creator", "").split(",") if a.strip()
                ],
                "affiliations": [],
                "categories": [c.text or "" for c in item.findall("category")],
            }
        )
    return papers


def load_pool(paths: list[str]) -> dict[str, dict]:
    pool: dict[str, dict] = {}
    for relative in paths:
        path = (REPO / relative).resolve()
        if not path.is_file():
            sys.exit(f"missing pool file {path} (is ../shared beside the checkout?)")
        root = ElementTree.parse(path).getroot()
        for paper in _atom(root) if root.tag == f"{ATOM}feed" else _rss(root):
            pool.setdefault(paper["id"], paper)
    return pool


def ndcg(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    gains = [(2 ** grades.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(ranked[:k])]
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return sum(gains) / best if best else 0.0


def precision(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    return sum(1 for pid in ranked[:k] if grades.get(pid, 0) > 0) / k


def rank_scorer(rows: list[PaperRow], profile: ProfileRow, parents: dict[str, str]) -> list[int]:
    (chunk,) = list(scores_compute(rows, [profile], parents=parents))
    relevance = chunk.relevance[0]
    order = sorted(range(len(rows)), key=lambda i: (-int(relevance[i]), i))
    return [i for i in order if relevance[i] > 0]


def rank_categories(rows: list[PaperRow], profile: ProfileRow) -> list[int]:
    """Baseline: the reader's categories, primary before cross-list, then arXiv order."""

    def weight(row: PaperRow) -> int:
        if row.categories and row.categories[0] in profile.categories:
            return 2
        return 1 if set(row.categories) & set(profile.categories) else 0

    order = sorted(range(len(rows)), key=lambda i: (-weight(rows[i]), i))
    return [i for i in order if weight(rows[i])]


def rank_keywords(rows: list[PaperRow], profile: ProfileRow) -> list[int]:
    """Baseline: how many of the reader's keywords the paper contains, as plain substrings."""

    def hits(row: PaperRow) -> int:
        text = f"{row.title} {row.abstract}".lower()
        return sum(1 for k in profile.keywords if k.lower() in text)

    order = sorted(range(len(rows)), key=lambda i: (-hits(rows[i]), i))
    return [i for i in order if hits(rows[i])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", default=str(REPO / "bench" / "data" / "ranking_labels.json"))
    args = parser.parse_args()
    data = json.loads(Path(args.labels).read_text(encoding="utf-8"))
    pool = load_pool(data["pool"])
    catalogue = json.loads((REPO / "digests" / "catalogue" / "default_topics.json").read_text())
    terms = [
        TopicTerms(t["slug"], tuple(t.get("keywords", [])), tuple(t.get("categories", [])))
        for t in catalogue
    ]
    parents = {t["slug"]: t["parent"] for t in catalogue if t.get("parent")}
    ids = sorted(pool)
    rows = []
    for n, pid in enumerate(ids):
        paper = pool[pid]
        hits = lexical_topic_hits(
            title=paper["title"],
            abstract=paper["abstract"],
            categories=paper["categories"],
            topics=terms,
        )
        rows.append(
            PaperRow(
                id=n,
                title=paper["title"],
                abstract=paper["abstract"],
                authors=paper["authors"],
                affiliations=paper["affiliations"],
                categories=paper["categories"],
                topic_hits={h["topic"]: h["score"] for h in hits},
            )
        )
    systems: dict[str, list[tuple[float, float]]] = {
        "scorer": [],
        "category-only": [],
        "keyword-only": [],
    }
    print(f"labelled set           {len(data['profiles'])} profiles over {len(pool)} real papers")
    header = f"{'profile':34} {'scorer':>15} {'category-only':>15} {'keyword-only':>15}"
    print(f"{header}   (nDCG@10 / P@10)")
    for entry in data["profiles"]:
        spec = entry["profile"]
        seed_ids = {_id(s) for s in spec.get("seed_papers", [])}
        profile = ProfileRow(
            id=0,
            topics=spec.get("topics", []),
            keywords=spec.get("keywords", []),
            exclude_keywords=spec.get("exclude_keywords", []),
            authors=spec.get("authors", []),
            institutions=spec.get("institutions", []),
            categories=spec.get("categories", []),
            interests=spec.get("interests", ""),
            seed_texts=[
                f"{pool[s]['title']}\n{pool[s]['abstract']}" for s in seed_ids if s in pool
            ],
        )
        grades = {label["arxiv_id"]: int(label["relevance"]) for label in entry["labels"]}
        seed_ids = set(spec.get("seed_papers", []))
        rankings = {
            "scorer": rank_scorer(rows, profile, parents),
            "category-only": rank_categories(rows, profile),
            "keyword-only": rank_keywords(rows, profile),
        }
        cells = []
        for name, order in rankings.items():
            ranked = [ids[i] for i in order if ids[i] not in seed_ids]  # a seed is not news
            figures = (ndcg(ranked, grades), precision(ranked, grades))
            systems[name].append(figures)
            cells.append(f"{figures[0]:.3f} / {figures[1]:.2f}")
        print(f"{entry['name'][:34]:34} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15}")
    print()
    means = {}
    for name, figures in systems.items():
        means[name] = (
            sum(f[0] for f in figures) / len(figures),
            sum(f[1] for f in figures) / len(figures),
        )
        print(f"mean {name:17} nDCG@10 {means[name][0]:.3f}   P@10 {means[name][1]:.3f}")
    beats = all(means["scorer"][0] > means[b][0] for b in ("category-only", "keyword-only"))
    print(f"scorer beats both baselines on nDCG@10: {'yes' if beats else 'NO'}")


if __name__ == "__main__":
    main()
