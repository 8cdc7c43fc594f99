"""Ranking quality: P@10 and nDCG@10 of our ranking against BM25, category-only and keyword-only.

Two kinds of labelled sets, both committed under `bench/labels/`:

* Public-label sets (`public_profiles.json`): real recorded announcement days, read in place from
  ../shared/arxiv-recorded, with relevance computed at run time from arXiv's own classification
  (written by the authors and moderators): broad interests (free text, no category named; the
  field's primary papers 1.0, its cross-lists 0.5), narrow cross-field interests (papers listed in
  both categories), followed authors (their papers), keywords (the category they characterise)
  and seed papers (held out; papers sharing a seed's primary category). A profile with fewer
  than 10 relevant papers on its day is dropped (the count kept is printed).
* A hand-labelled set (`hand_labels.json`): realistic profiles on the all-archives day, each pooled
  paper (top 15 of BM25, ours and category-only) graded 0/1/2 by reading it, with its reason.
  Unlabelled papers count as 0.

"Ours" is the product's own path: the day's papers as `Paper` rows in a throw-away SQLite
database, the LLM-less lexical reading (`enrich.lexical_enrich`), the topic catalogue, one
Subscriber + InterestProfile per profile, and `assemble.picks_for` (what the e-mail and the
preview pick), with min_relevance 0 and max_items 10, so the ranking is measured, not the
threshold; `include_updates` is on, since replacements are labelled like new papers. "Ours +
embeddings" is the same with LLM_EMBEDDING_MODEL set and the papers embedded by the devtools LLM
stub (started in-process on 127.0.0.1). Gains: 1 for a relevant paper, 0.5 for a partly relevant
one (cross-list, grade 1); P@10 = the sum of the top 10's gains / 10, nDCG@10 with linear gains.

    .venv/bin/python bench/ranking_quality.py [--per-profile] [--show PROFILE_ID] [--no-embeddings]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

REPO = Path(__file__).resolve().parent.parent
LABELS = REPO / "bench" / "labels"
PUBLIC = LABELS / "public_profiles.json"
HAND = LABELS / "hand_labels.json"
DC = "{http://purl.org/dc/elements/1.1/}"
K = 10
MIN_RELEVANT = 10
METHODS = ("ours", "ours+emb", "bm25", "category", "keyword")
EMBEDDING_MODEL = "bench-stub-embedding"
# Targets of the issue, for the public-label sets: P@10 over BM25 by kind.
TARGETS = {"broad": 0.20, "narrow": 0.15}


# A standard English stop list (the usual function words), for the baselines' tokenizer.
def _listed(text: str) -> list[str]:
    return text.split()


STOPWORDS = frozenset(
    _listed(
        "a about above after again against all also am an and any are as at be because been "
        "before being below between both but by can could did do does doing down during each "
        "few for from further had has have having he her here hers herself him himself his "
        "how i if in into is it its itself just me more most my myself no nor not now of off "
        "on once only or other our ours ourselves out over own same she should so some such "
        "than that the their theirs them themselves then there these they this those through "
        "to too under until up very was we were what when where which while who whom why will "
        "with would you your yours yourself yourselves using use used via new based"
    )
)
_TOKEN = re.compile(r"[a-z0-9]+")


# --- Reading the recorded days ---------------------------------------------------------------


@dataclass
class FeedPaper:
    arxiv_id: str
    version: int
    announce_type: str
    title: str
    abstract: str
    authors: list[dict[str, Any]]
    categories: list[str]

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.abstract}"

    @property
    def names(self) -> list[str]:
        return [a["name"] for a in self.authors]


def _creators(raw: str) -> list[dict[str, Any]]:
    """`dc:creator`: names separated by commas, each with its affiliations in parentheses."""
    people, name, affiliation, depth = [], "", "", 0
    for char in raw + ",":
        if char == "(":
            depth += 1
            if depth == 1:
                continue
        elif char == ")":
            depth -= 1
            if depth == 0:
                continue
        if depth:
            affiliation += char
        elif char == ",":
            if name.strip():
                affiliations = [" ".join(affiliation.split())] if affiliation.strip() else []
                people.append({"name": " ".join(name.split()), "affiliations": affiliations})
            name, affiliation = "", ""
        else:
            name += char
    return people


def feed_read(relative: str) -> tuple[dt.date, list[FeedPaper]]:
    """One recorded RSS day: the listing as ingest parses it, the metadata ingest would store."""
    from digests.ingest import listing_parse
    from digests.text import clean_text

    path = (REPO / relative).resolve()
    if not path.is_file():
        sys.exit(f"missing recorded day {path} (is ../shared beside the checkout?)")
    body = path.read_bytes()
    listing = listing_parse("bench", body)
    assert listing.date is not None
    announced = {a.arxiv_id: a for a in listing.announcements}
    papers = []
    for item in ElementTree.fromstring(body).iter("item"):
        guid = item.findtext("guid", "")
        arxiv_id = re.sub(r"v\d+$", "", guid.strip().removeprefix("oai:arXiv.org:"))
        announcement = announced[arxiv_id]
        description = item.findtext("description", "")
        papers.append(
            FeedPaper(
                arxiv_id=arxiv_id,
                version=announcement.version,
                announce_type=announcement.announce_type,
                title=clean_text(item.findtext("title", "")),
                abstract=clean_text(description.split("Abstract:", 1)[-1]),
                authors=_creators(item.findtext(f"{DC}creator", "")),
                categories=[c.text or "" for c in item.findall("category")],
            )
        )
    return listing.date, papers


# --- Profiles and their relevance ------------------------------------------------------------


@dataclass
class Profile:
    id: str
    kind: str
    set_name: str
    day: dt.date
    interests: str = ""
    keywords: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # named by the reader (hand set only)
    topics: list[str] = field(default_factory=list)  # followed catalogue topics (hand set only)
    category_hint: list[str] = field(default_factory=list)  # the category-only baseline's input
    gains: dict[str, float] = field(default_factory=dict)  # arxiv id → 0.5 or 1.0
    public: bool = True


def public_gains(spec: dict[str, Any], papers: list[FeedPaper]) -> tuple[dict[str, float], list]:
    """Relevance of each paper of the day from arXiv's own labels; also the category hint."""
    rule = spec["rule"]
    gains: dict[str, float] = {}
    hint = list(spec.get("category_hint", spec.get("categories", [])))
    if rule == "seeds":
        by_id = {p.arxiv_id: p for p in papers}
        hint = sorted({by_id[s].categories[0] for s in spec["seeds"]})
    for paper in papers:
        if paper.arxiv_id in spec.get("seeds", []):
            continue  # held out
        cats = paper.categories
        if rule in {"field", "seeds"}:
            wanted = set(hint if rule == "seeds" else spec["categories"])
            if cats[0] in wanted:
                gains[paper.arxiv_id] = 1.0
            elif wanted & set(cats):
                gains[paper.arxiv_id] = 0.5
        elif rule == "both":
            if set(spec["categories"]) <= set(cats):
                gains[paper.arxiv_id] = 1.0
        elif rule == "authors":
            if set(spec["authors"]) & set(paper.names):
                gains[paper.arxiv_id] = 1.0
        else:
            raise ValueError(f"{spec['id']}: unknown rule {rule!r}")
    return gains, hint


def profile_from(spec: dict[str, Any], set_name: str, day: dt.date, **extra: Any) -> Profile:
    return Profile(
        id=spec["id"],
        kind=spec["kind"],
        set_name=set_name,
        day=day,
        interests=spec.get("interests", ""),
        keywords=list(spec.get("keywords", [])),
        authors=list(spec.get("authors", [])),
        seeds=list(spec.get("seeds", [])),
        categories=list(spec.get("named_categories", [])),
        topics=list(spec.get("topics", [])),
        **extra,
    )


# --- Baselines -------------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def query_text(profile: Profile, by_id: dict[str, FeedPaper]) -> str:
    """Everything the reader wrote, and the seeds' titles and abstracts."""
    parts = [profile.interests, *profile.keywords, *profile.authors]
    parts += [by_id[s].text for s in profile.seeds if s in by_id]
    return "\n".join(parts)


def rank_bm25(profile: Profile, candidates: list[FeedPaper], by_id: dict) -> list[str]:
    """Okapi BM25 (rank-bm25, k1=1.2, b=0.75) over title + abstract; IDF from this corpus."""
    from rank_bm25 import BM25Okapi

    bm25 = BM25Okapi([tokens(p.text) for p in candidates], k1=1.2, b=0.75)
    scores = bm25.get_scores(tokens(query_text(profile, by_id)))
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    return [candidates[i].arxiv_id for i in order[:K] if scores[i] > 0]


def rank_category(profile: Profile, candidates: list[FeedPaper]) -> list[str]:
    """The reader's (named or inferred) categories: primary match, then cross-list, then order."""
    wanted = set(profile.category_hint)

    def weight(paper: FeedPaper) -> int:
        return 2 if paper.categories[0] in wanted else int(bool(wanted & set(paper.categories)))

    order = sorted(range(len(candidates)), key=lambda i: (-weight(candidates[i]), i))
    return [candidates[i].arxiv_id for i in order[:K] if weight(candidates[i])]


def keyword_terms(profile: Profile, by_id: dict) -> list[tuple[str, ...]]:
    """The reader's keywords, else the content words of their free text (or seed titles)."""
    if profile.keywords:
        return [tuple(tokens(k)) for k in profile.keywords if tokens(k)]
    text = " ".join([profile.interests, *(by_id[s].title for s in profile.seeds if s in by_id)])
    return [(t,) for t in dict.fromkeys(tokens(text))]


def rank_keyword(profile: Profile, candidates: list[FeedPaper], by_id: dict) -> list[str]:
    """How many of the reader's terms occur (as whole words or phrases) in title + abstract."""
    terms = keyword_terms(profile, by_id)

    def hits(paper: FeedPaper) -> int:
        text = f" {' '.join(tokens(paper.text))} "
        return sum(1 for term in terms if f" {' '.join(term)} " in text)

    counts = [hits(p) for p in candidates]
    order = sorted(range(len(candidates)), key=lambda i: (-counts[i], i))
    return [candidates[i].arxiv_id for i in order[:K] if counts[i]]


# --- Ours: the product's own path ------------------------------------------------------------


def django_setup(data_dir: Path) -> None:
    """Django on a throw-away SQLite database in `data_dir`, migrated."""
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    for name in ("CACHE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_EMBEDDING_MODEL"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "newsletter.settings"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpx2").setLevel(logging.WARNING)


def papers_load(day: dt.date, papers: list[FeedPaper]) -> dict[str, int]:
    """The day's papers as ingest stores them; return their primary keys by arXiv id."""
    from digests.models import Paper

    Paper.objects.bulk_create(
        [
            Paper(
                arxiv_id=p.arxiv_id,
                version=p.version,
                title=p.title,
                abstract=p.abstract,
                authors=p.authors,
                categories=p.categories,
                primary_category=p.categories[0],
                announce_date=day,
                announce_type=p.announce_type,
            )
            for p in papers
        ],
        batch_size=500,
        ignore_conflicts=True,
    )
    return dict(
        Paper.objects.filter(announce_date=day).values_list("arxiv_id", "pk"),
    )


def topics_load() -> None:
    from digests.catalogue.topics import topics_import

    data = json.loads((REPO / "digests" / "catalogue" / "default_topics.json").read_text())
    topics_import(data=data)


def subscriber_for(profile: Profile, number: int):
    from digests.models import Topic
    from subscribers.models import InterestProfile, Subscriber

    subscriber = Subscriber.objects.create(
        email=f"bench-{number}@example.org", status=Subscriber.Status.ACTIVE
    )
    stored = InterestProfile.objects.create(
        subscriber=subscriber,
        interests=profile.interests,
        keywords=profile.keywords,
        authors=profile.authors,
        seed_papers=profile.seeds,
        categories=profile.categories,
        include_updates=True,
        serendipity=False,
        max_items=K,
        min_relevance=0,
    )
    if profile.topics:
        stored.topics.set(Topic.objects.filter(slug__in=profile.topics))
    return Subscriber.objects.select_related("profile").get(pk=subscriber.pk)


def rank_ours(subscriber, profile: Profile, pks: dict[str, int]) -> list[str]:
    """What the reader's e-mail would list, in order (seed papers held out)."""
    from digests.assemble import picks_for

    exclude = {pks[s] for s in profile.seeds if s in pks}
    papers, picks = picks_for(subscriber=subscriber, issue_date=profile.day, exclude=exclude)
    return [papers[pick.paper].arxiv_id for pick in picks][:K]


def embeddings_on(papers_by_day: dict[dt.date, list]) -> Any:
    """Start the LLM stub in-process, point the settings at it, embed every paper."""
    from django.conf import settings

    from devtools.llm_stub import llm_stub_start
    from digests.llm.embeddings import papers_embed
    from digests.models import Paper

    stub = llm_stub_start(api_key="bench-key")
    settings.OPENAI_API_KEY = "bench-key"
    settings.OPENAI_BASE_URL = stub.base_url
    settings.LLM_EMBEDDING_MODEL = EMBEDDING_MODEL
    for day in papers_by_day:
        papers_embed(list(Paper.objects.filter(announce_date=day)), day=day)
    return stub


def embeddings_off(stub: Any) -> None:
    from django.conf import settings

    settings.LLM_EMBEDDING_MODEL = ""
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    stub.stop()


# --- Metrics and report ----------------------------------------------------------------------


def precision(ranked: list[str], gains: dict[str, float]) -> float:
    return sum(gains.get(pid, 0.0) for pid in ranked[:K]) / K


def ndcg(ranked: list[str], gains: dict[str, float]) -> float:
    dcg = sum(gains.get(pid, 0.0) / math.log2(i + 2) for i, pid in enumerate(ranked[:K]))
    ideal = sorted(gains.values(), reverse=True)[:K]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def table(rows: list[tuple[str, list[Profile]]], results: dict, methods: tuple[str, ...]) -> None:
    head = f"{'set / kind':<34}{'n':>3} " + "".join(f"{m:>16}" for m in methods)
    print(head)
    print(f"{'':<38}" + "".join(f"{'P@10  nDCG@10':>16}" for _ in methods))
    for label, group in rows:
        if not group:
            continue
        cells = []
        for method in methods:
            p = _mean([results[x.id][method][0] for x in group])
            n = _mean([results[x.id][method][1] for x in group])
            cells.append(f"{p:>8.3f}{n:>8.3f}")
        print(f"{label:<34}{len(group):>3} " + "".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-profile", action="store_true", help="one line per profile")
    parser.add_argument("--show", action="append", default=[], help="print a profile's top 10s")
    parser.add_argument("--no-embeddings", action="store_true", help="skip ours+emb")
    parser.add_argument("--no-hand", action="store_true", help="skip the hand-labelled set")
    parser.add_argument("--pool", metavar="PATH", help="write the hand set's pools (top 15s)")
    parser.add_argument(
        "--kind", action="append", default=[], help="only profiles of this kind (repeatable)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    from tqdm import tqdm

    with tempfile.TemporaryDirectory(prefix="bench-ranking-") as tmp:
        django_setup(Path(tmp))
        print(f"Django on a throw-away SQLite database: {time.perf_counter() - started:.1f} s")
        from digests.enrich import lexical_enrich
        from digests.models import Paper

        topics_load()
        public = json.loads(PUBLIC.read_text(encoding="utf-8"))
        hand = json.loads(HAND.read_text(encoding="utf-8")) if HAND.is_file() else None
        days: dict[str, tuple[dt.date, list[FeedPaper]]] = {}
        feeds = [d["feed"] for d in public["days"]]
        if hand and not args.no_hand:
            feeds.append(hand["feed"])
        pks: dict[dt.date, dict[str, int]] = {}
        tick = time.perf_counter()
        for feed in dict.fromkeys(feeds):
            day, papers = feed_read(feed)
            days[feed] = (day, papers)
            pks[day] = papers_load(day, papers)
            lexical_enrich(list(Paper.objects.filter(announce_date=day)))
        loaded = sum(len(p) for _d, p in days.values())
        print(
            f"{loaded} papers of {len(days)} recorded days loaded and read lexically "
            f"(lexical_enrich): {time.perf_counter() - tick:.1f} s"
        )

        profiles: list[Profile] = []
        dropped: list[str] = []
        for spec_day in public["days"]:
            day, papers = days[spec_day["feed"]]
            for spec in spec_day["profiles"]:
                if args.kind and spec["kind"] not in args.kind:
                    continue
                gains, hint = public_gains(spec, papers)
                if sum(1 for g in gains.values() if g > 0) < MIN_RELEVANT:
                    dropped.append(f"{spec['id']} ({len(gains)} relevant)")
                    continue
                profiles.append(
                    profile_from(spec, spec_day["name"], day, gains=gains, category_hint=hint)
                )
        if hand and not args.no_hand:
            day, papers = days[hand["feed"]]
            unlabelled = [s["id"] for s in hand["profiles"] if not s["labels"]]
            if unlabelled:
                print(f"hand set: {len(unlabelled)} profiles not labelled yet, left out")
            for spec in hand["profiles"]:
                if not spec["labels"] and not args.pool:  # --pool: pooled to be labelled
                    continue
                gains = {
                    pid: grade / 2 for pid, (grade, _reason) in spec["labels"].items() if grade
                }
                profiles.append(
                    profile_from(
                        spec,
                        hand["name"],
                        day,
                        gains=gains,
                        category_hint=list(spec["category_hint"]),
                        public=False,
                    )
                )

        methods = (
            METHODS if not args.no_embeddings else tuple(m for m in METHODS if m != "ours+emb")
        )
        results: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
        ranked: dict[str, dict[str, list[str]]] = defaultdict(dict)
        timings: dict[str, float] = defaultdict(float)
        papers_of = {day: papers for day, papers in days.values()}
        subscribers = {p.id: subscriber_for(p, n) for n, p in enumerate(profiles)}

        def run(method: str, profile: Profile) -> None:
            papers = papers_of[profile.day]
            by_id = {p.arxiv_id: p for p in papers}
            candidates = [p for p in papers if p.arxiv_id not in profile.seeds]
            tick = time.perf_counter()
            if method in {"ours", "ours+emb"}:
                top = rank_ours(subscribers[profile.id], profile, pks[profile.day])
            elif method == "bm25":
                top = rank_bm25(profile, candidates, by_id)
            elif method == "category":
                top = rank_category(profile, candidates)
            else:
                top = rank_keyword(profile, candidates, by_id)
            timings[method] += time.perf_counter() - tick
            ranked[profile.id][method] = top
            results[profile.id][method] = (
                precision(top, profile.gains),
                ndcg(top, profile.gains),
            )

        for profile in tqdm(profiles, desc="ranking (LLM-less)", unit="profile"):
            for method in ("ours", "bm25", "category", "keyword"):
                run(method, profile)
        if "ours+emb" in methods:
            tick = time.perf_counter()
            stub = embeddings_on(pks)
            timings["embedding the papers (stub)"] = time.perf_counter() - tick
            try:
                for profile in tqdm(profiles, desc="ranking (embeddings)", unit="profile"):
                    run("ours+emb", profile)
            finally:
                embeddings_off(stub)

        if args.pool:
            pool_write(
                Path(args.pool),
                [p for p in profiles if not p.public],
                subscribers,
                pks,
                papers_of,
            )

        report(profiles, results, ranked, methods, dropped, args, papers_of)
        print(
            "\ntimings: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
            + f"; total {time.perf_counter() - started:.1f} s"
        )


def pool_write(
    path: Path, profiles: list[Profile], subscribers: dict, pks: dict, papers_of: dict
) -> None:
    """For labelling: the top 15 of BM25, ours and category-only, pooled, with the text."""
    global K
    out = {}
    for profile in profiles:
        papers = papers_of[profile.day]
        by_id = {p.arxiv_id: p for p in papers}
        candidates = [p for p in papers if p.arxiv_id not in profile.seeds]
        subscriber = subscribers[profile.id]
        saved, K = K, 15
        subscriber.profile.max_items = 15
        try:
            pooled = dict.fromkeys(
                rank_bm25(profile, candidates, by_id)
                + rank_ours(subscriber, profile, pks[profile.day])
                + rank_category(profile, candidates)
            )
        finally:
            K = saved
            subscriber.profile.max_items = saved
        out[profile.id] = [
            {
                "id": pid,
                "categories": by_id[pid].categories,
                "title": by_id[pid].title,
                "abstract": by_id[pid].abstract,
            }
            for pid in pooled
        ]
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"pools written to {path}")


def report(
    profiles: list[Profile],
    results: dict,
    ranked: dict,
    methods: tuple[str, ...],
    dropped: list[str],
    args: argparse.Namespace,
    papers_of: dict,
) -> None:
    public = [p for p in profiles if p.public]
    kinds = list(dict.fromkeys(p.kind for p in public))
    print()
    counts = ", ".join(f"{k} {sum(1 for p in public if p.kind == k)}" for k in kinds)
    print(f"public-label profiles kept: {len(public)} ({counts}); dropped (< {MIN_RELEVANT}")
    print(f"  relevant papers on their day): {len(dropped)} {', '.join(dropped) or ''}")
    rows: list[tuple[str, list[Profile]]] = []
    for set_name in dict.fromkeys(p.set_name for p in public):
        in_set = [p for p in public if p.set_name == set_name]
        for kind in kinds:
            rows.append((f"{set_name} · {kind}", [p for p in in_set if p.kind == kind]))
        rows.append((f"{set_name} · all kinds", in_set))
    for kind in kinds:
        rows.append((f"public overall · {kind}", [p for p in public if p.kind == kind]))
    rows.append(("public overall · all kinds", public))
    hand = [p for p in profiles if not p.public]
    if hand:
        rows.append((f"{hand[0].set_name} (unlabelled = 0)", hand))
    print()
    table(rows, results, methods)

    print("\ntargets (public-label sets, mean P@10 by kind):")
    for variant in [m for m in ("ours", "ours+emb") if m in methods]:
        for kind in kinds:
            group = [p for p in public if p.kind == kind]
            ours = _mean([results[p.id][variant][0] for p in group])
            bm25 = _mean([results[p.id]["bm25"][0] for p in group])
            margin = TARGETS.get(kind, 0.0)
            verdict = "holds" if ours >= bm25 + margin - 1e-9 else "FAILS"
            need = f"≥ BM25 + {margin:.2f}" if margin else "not worse than BM25"
            print(
                f"  {variant:<8} {kind:<8} {ours:.3f} vs BM25 {bm25:.3f} "
                f"({ours - bm25:+.3f}); target {need}: {verdict}"
            )

    if args.per_profile:
        print()
        head = f"{'profile':<38}{'kind':<8}{'rel':>4} " + "".join(f"{m:>16}" for m in methods)
        print(head)
        for p in profiles:
            cells = "".join(
                f"{results[p.id][m][0]:>8.2f}{results[p.id][m][1]:>8.2f}" for m in methods
            )
            relevant = sum(1 for g in p.gains.values() if g > 0)
            print(f"{p.id:<38}{p.kind:<8}{relevant:>4} {cells}")

    for wanted in args.show:
        chosen = [p for p in profiles if p.id == wanted]
        if not chosen:
            print(f"\nno profile {wanted!r}")
            continue
        profile = chosen[0]
        by_id = {x.arxiv_id: x for x in papers_of[profile.day]}
        print(f"\n{profile.id} ({profile.kind}): {profile.interests or profile.keywords}")
        for method in methods:
            print(f"  {method}:")
            for pid in ranked[profile.id][method]:
                paper = by_id[pid]
                gain = profile.gains.get(pid, 0.0)
                cats = ",".join(paper.categories)
                print(f"    {gain:>3} {pid} [{cats}] {paper.title[:90]}")


if __name__ == "__main__":
    main()
