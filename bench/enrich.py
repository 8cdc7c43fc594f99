"""Benchmark enrichment: LLM calls and tokens follow papers and languages, never subscribers.

A synthetic day of N papers is enriched with `day_enrich` against the local LLM stub, once per
number of active subscribers (half reading Chinese, half English): the chat calls must be
papers × languages + briefs written, and calls and tokens the same however many read. Then the
throughput of `papers_enrich` at each LLM_CONCURRENCY, the stub answering after a fixed latency.
Runs on a throw-away SQLite database unless DATABASE_URL is set (then it must hold no subscriber
and no paper of the benchmark's days: subscribers, enrichments and briefs are deleted between runs).

    .venv/bin/python bench/enrich.py --papers 500 --subscribers 10,10000 --concurrency 1,8 \
        --latency 0.05 --throughput-papers 80
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_ready

DAY = dt.date(2026, 6, 18)
THROUGHPUT_DAY = DAY + dt.timedelta(days=1)
LANGUAGES = ("zh", "en")
FOLLOWED = ("post-training", "llm-reasoning", "reinforcement-learning")
# What subscriber i follows: two of the three topics, so every language follows all three.
FOLLOW_SETS = (FOLLOWED[:2], FOLLOWED[1:], (FOLLOWED[0], FOLLOWED[2]))

# Themes of the synthetic papers: topic slug, arXiv category, phrases of the field.
THEMES = {
    "post-training": (
        "cs.CL",
        [
            "direct preference optimization",
            "reward model",
            "supervised fine-tuning",
            "reinforcement learning from human feedback",
            "preference alignment",
            "knowledge distillation",
        ],
    ),
    "llm-reasoning": (
        "cs.CL",
        [
            "chain-of-thought",
            "mathematical reasoning",
            "test-time scaling",
            "process reward model",
            "reasoning traces",
            "self-consistency",
        ],
    ),
    "reinforcement-learning": (
        "cs.LG",
        [
            "policy gradient",
            "offline reinforcement learning",
            "Markov decision process",
            "actor-critic",
            "multi-agent reinforcement learning",
            "reward shaping",
        ],
    ),
    "statistical-ml": (
        "stat.ML",
        [
            "generalization bound",
            "kernel methods",
            "conformal prediction",
            "sample complexity",
            "uncertainty quantification",
        ],
    ),
    "llm-agents": (
        "cs.AI",
        ["tool use", "web agents", "multi-agent collaboration", "planning", "agentic workflows"],
    ),
    "rag": (
        "cs.CL",
        ["retrieval-augmented generation", "dense retrieval", "reranking", "knowledge grounding"],
    ),
    "llm-efficiency": (
        "cs.LG",
        ["quantization", "speculative decoding", "KV cache compression", "sparse attention"],
    ),
    "optimization": (
        "cs.LG",
        ["stochastic gradient descent", "convergence rate", "adaptive optimizers", "Adam"],
    ),
}
CATEGORIES = ("cs.CL", "cs.LG", "cs.AI", "stat.ML")
NOUNS = [
    "language models",
    "transformers",
    "benchmarks",
    "training data",
    "evaluation protocols",
    "baselines",
    "representations",
    "objectives",
    "datasets",
    "downstream tasks",
    "model families",
    "ablations",
]
VERBS = ["improves", "stabilises", "scales", "outperforms", "generalises", "simplifies"]
ADJECTIVES = ["robust", "efficient", "scalable", "principled", "adaptive", "unified", "simple"]
INSTITUTIONS = [
    "Tsinghua University",
    "Peking University",
    "Stanford University",
    "MIT",
    "University of Oxford",
    "ETH Zurich",
    "Google DeepMind",
    "Microsoft Research",
    "Shanghai AI Laboratory",
    "Carnegie Mellon University",
    "University of Toronto",
    "Zhejiang University",
]
FIRST_NAMES = ["Wei", "Li", "Anna", "James", "Mei", "Carlos", "Yuki", "Sara", "Omar", "Jun"]
LAST_NAMES = ["Zhang", "Wang", "Smith", "Garcia", "Chen", "Müller", "Tanaka", "Liu", "Kim", "Rossi"]


def _sentence(rng: random.Random, phrases: list[str]) -> str:
    p, q = rng.sample(phrases, 2)
    templates = [
        f"We study {p} for {rng.choice(NOUNS)} and show that a {rng.choice(ADJECTIVES)} "
        f"variant {rng.choice(VERBS)} {q} across {rng.randint(3, 12)} {rng.choice(NOUNS)}.",
        f"Existing approaches to {p} rely on {rng.choice(ADJECTIVES)} heuristics that fail "
        f"when {rng.choice(NOUNS)} shift, which limits {q} in practice.",
        f"Our analysis reveals that {q} {rng.choice(VERBS)} when {p} is combined with "
        f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}.",
        f"Experiments on {rng.randint(2, 9)} {rng.choice(NOUNS)} demonstrate gains of "
        f"{rng.randint(2, 19)}.{rng.randint(0, 9)} points over strong {rng.choice(NOUNS)}.",
        f"We further provide a theoretical account of {p} and release code, "
        f"{rng.choice(NOUNS)} and {rng.choice(NOUNS)} to support future work on {q}.",
    ]
    return rng.choice(templates)


def _synthetic_papers(n: int, *, start: int, day: dt.date, seed: int):
    """Papers of `day` (unsaved) and the stub's canned topic hits for them, keyed by title."""
    from digests.models import AnnounceType, Paper

    rng = random.Random(seed)
    slugs = list(THEMES)
    papers, canned = [], {}
    for k in range(n):
        themes = rng.sample(slugs, rng.choice((1, 2)))
        phrases = [phrase for slug in themes for phrase in THEMES[slug][1]]
        title = ""
        while not title or title in canned:
            p, q = rng.sample(phrases, 2)
            name = "".join(rng.choice("ABCDEFGHKLMNPRSTVXZ") for _ in range(rng.randint(3, 6)))
            title = (
                f"{name}: {rng.choice(ADJECTIVES).capitalize()} {p} with {q} "
                f"for {' and '.join(rng.sample(ADJECTIVES, 2))} {rng.choice(NOUNS)}"
            )
        target = rng.randint(150, 210)
        sentences: list[str] = []
        while sum(len(s.split()) for s in sentences) < target:
            sentences.append(_sentence(rng, phrases))
        categories = [THEMES[themes[0]][0]]
        categories += [c for c in rng.sample(CATEGORIES, rng.randint(0, 2)) if c not in categories]
        authors = [
            {
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "affiliations": [rng.choice(INSTITUTIONS)],
            }
            for _ in range(rng.randint(3, 8))
        ]
        papers.append(
            Paper(
                arxiv_id=f"2606.{start + k:05d}",
                title=title,
                abstract=" ".join(sentences),
                authors=authors,
                categories=categories,
                primary_category=categories[0],
                announce_date=day,
                announce_type=AnnounceType.NEW,
                affiliations_version=1,  # from the API record, as ingestion marks them
            )
        )
        # The stub reads topics lexically from the catalogue in the target language, so it finds
        # none in Chinese: the canned hits give every language the same topical reading.
        canned[title] = {
            "topic_hits": [
                {"topic": slug, "score": rng.randint(55, 95), "reason": f"about {phrases[0]}"}
                for slug in themes
            ]
        }
    return papers, canned


def _subscribers_create(count: int) -> None:
    """`count` active subscribers, alternately zh and en, each following two of FOLLOWED."""
    from digests.models import Topic
    from subscribers.models import InterestProfile, Subscriber

    Subscriber.objects.all().delete()
    Subscriber.objects.bulk_create(
        Subscriber(
            email=f"reader{i}@bench.example.org",
            status=Subscriber.Status.ACTIVE,
            language=LANGUAGES[i % len(LANGUAGES)],
        )
        for i in range(count)
    )
    subscriber_ids = list(Subscriber.objects.order_by("pk").values_list("pk", flat=True))
    InterestProfile.objects.bulk_create(
        InterestProfile(subscriber_id=pk, categories=["cs.CL", "cs.LG"]) for pk in subscriber_ids
    )
    profiles = dict(InterestProfile.objects.values_list("subscriber_id", "pk"))
    topic_ids = dict(Topic.objects.filter(slug__in=FOLLOWED).values_list("slug", "pk"))
    through = InterestProfile.topics.through
    through.objects.bulk_create(
        through(interestprofile_id=profiles[pk], topic_id=topic_ids[slug])
        for i, pk in enumerate(subscriber_ids)
        for slug in FOLLOW_SETS[i % len(FOLLOW_SETS)]
    )


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument(
        "--subscribers", type=_int_list, default=[10, 10000], help="comma-separated counts"
    )
    parser.add_argument(
        "--concurrency", type=_int_list, default=[1, 8], help="LLM_CONCURRENCY values"
    )
    parser.add_argument("--latency", type=float, default=0.05, help="stub latency per answer (s)")
    parser.add_argument("--throughput-papers", type=int, default=80)
    parser.add_argument(
        "--embedding-model",
        default="text-embedding-3-small",
        help="LLM_EMBEDDING_MODEL for day_enrich ('' to skip embeddings)",
    )
    args = parser.parse_args()

    django_ready("bench-enrich-")
    from django.conf import settings
    from django.db.models import Sum
    from django.test.utils import override_settings

    from devtools.llm_stub import llm_stub_start
    from digests.catalogue.topics import topics_import
    from digests.daily import day_enrich
    from digests.enrich import lexical_enrich, papers_enrich
    from digests.llm.usage import tokens_cost
    from digests.models import Enrichment, LLMUsage, Paper, TopicBrief
    from digests.scoring.lexical import LEXICAL_VERSION
    from subscribers.models import Subscriber

    for name in ("httpx", "httpx2", "openai"):  # one INFO line per request otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    days = (DAY, THROUGHPUT_DAY)
    if Subscriber.objects.exists() or Paper.objects.filter(announce_date__in=days).exists():
        sys.exit("bench/enrich.py needs a database without subscribers or papers of its days")
    catalogue = Path(settings.BASE_DIR) / "digests" / "catalogue" / "default_topics.json"
    topics_import(data=json.loads(catalogue.read_text("utf-8")))

    papers, canned = _synthetic_papers(args.papers, start=30000, day=DAY, seed=1)
    tp_papers, tp_canned = _synthetic_papers(
        args.throughput_papers, start=60000, day=THROUGHPUT_DAY, seed=2
    )
    Paper.objects.bulk_create(papers + tp_papers)
    canned |= tp_canned
    words_title = sum(len(p.title.split()) for p in papers) / len(papers)
    words_abstract = sum(len(p.abstract.split()) for p in papers) / len(papers)
    print(
        f"papers                 {args.papers} on {DAY} "
        f"(title {words_title:.1f} words, abstract {words_abstract:.0f} words on average)"
    )
    print(
        f"LLM_CONCURRENCY        {settings.LLM_CONCURRENCY} (scenarios); "
        f"prices ${settings.LLM_PRICE_INPUT:g} in / ${settings.LLM_PRICE_OUTPUT:g} out per M tokens"
    )

    llm = {
        "OPENAI_API_KEY": "bench",
        "LLM_DAILY_TOKEN_BUDGET": 10**12,
        "LLM_EMBEDDING_MODEL": args.embedding_model,
    }
    results = []
    for count in args.subscribers:
        Enrichment.objects.filter(paper__announce_date=DAY).delete()
        TopicBrief.objects.filter(date=DAY).delete()
        LLMUsage.objects.filter(day=DAY).delete()
        Paper.objects.filter(announce_date=DAY).update(embedding=None, embedding_model="")
        started = time.perf_counter()
        _subscribers_create(count)
        created = time.perf_counter() - started
        stub = llm_stub_start(canned=canned)
        started = time.perf_counter()
        with override_settings(OPENAI_BASE_URL=stub.base_url, **llm):
            enriched, briefs = day_enrich(date=DAY)
        elapsed = time.perf_counter() - started
        stub.stop()

        languages = len(enriched.languages)
        expected = args.papers * languages + briefs.written
        usage = {
            row["purpose"]: row
            for row in LLMUsage.objects.filter(day=DAY)
            .values("purpose")
            .annotate(calls=Sum("calls"), tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"))
        }
        brief_in = usage.get(LLMUsage.Purpose.BRIEF, {}).get("tokens_in", 0)
        brief_out = usage.get(LLMUsage.Purpose.BRIEF, {}).get("tokens_out", 0)
        enrich_usage = usage.get(LLMUsage.Purpose.ENRICH, {})
        agree = (
            enrich_usage.get("calls") == enriched.calls
            and enrich_usage.get("tokens_in") == enriched.tokens_in
            and enrich_usage.get("tokens_out") == enriched.tokens_out
            and usage.get(LLMUsage.Purpose.BRIEF, {}).get("calls", 0) == briefs.calls
        )
        paper_languages = args.papers * languages
        per_in = enriched.tokens_in / paper_languages
        per_out = enriched.tokens_out / paper_languages
        cost_enrich = tokens_cost(enriched.tokens_in, enriched.tokens_out)
        cost_day = tokens_cost(enriched.tokens_in + brief_in, enriched.tokens_out + brief_out)
        per_thousand = cost_enrich * 1000 / args.papers
        results.append(
            (
                count,
                languages,
                stub.chat_calls,
                enriched.tokens_in,
                enriched.tokens_out,
                briefs.written,
                brief_in,
                brief_out,
            )
        )
        by_language = dict.fromkeys(LANGUAGES, 0)
        for language in Subscriber.objects.values_list("language", flat=True):
            by_language[language] += 1
        readers = ", ".join(f"{lang} {n}" for lang, n in by_language.items())
        print()
        print(
            f"scenario               {count} active subscribers ({readers}; "
            f"created in {created:.2f} s)"
        )
        print(f"languages              {', '.join(enriched.languages)}")
        print(
            f"enrichments            {enriched.enriched} enriched, {enriched.cached} cached, "
            f"{enriched.failed} failed, {enriched.skipped} skipped"
        )
        print(
            f"briefs                 {briefs.written} written, {briefs.cached} cached, "
            f"{briefs.failed} failed"
        )
        print(f"chat calls (stub)      {stub.chat_calls}")
        print(
            f"expected calls         {expected} ({args.papers} papers × {languages} languages "
            f"+ {briefs.written} briefs)"
        )
        print(f"embedding requests     {stub.embedding_calls}")
        print(
            f"tokens in / out        {enriched.tokens_in} / {enriched.tokens_out} enrich, "
            f"{brief_in} / {brief_out} briefs"
        )
        print(f"LLMUsage agrees        {'yes' if agree else 'NO'}")
        print(f"tokens / paper-lang    {per_in:.0f} in, {per_out:.0f} out")
        print(
            f"cost / 1,000 papers    ${per_thousand:.4f} ({languages} languages); "
            f"this day ${cost_day:.4f} with briefs"
        )
        print(f"wall time              {elapsed:.2f} s")

    first = results[0]
    same = all(result[1:] == first[1:] for result in results)
    counts = " vs ".join(str(result[0]) for result in results)
    print()
    print(f"calls and tokens, {counts} subscribers: same: {'yes' if same else 'NO'}")

    print()
    # papers_enrich first stores the lexical reading of papers lacking one: do it once, apart.
    started = time.perf_counter()
    lexical_enrich(tp_papers)
    print(
        f"lexical reading        {len(tp_papers)} papers in {time.perf_counter() - started:.2f} s "
        "(before the throughput runs, untimed there)"
    )
    throughput = []
    for concurrency in args.concurrency:
        Enrichment.objects.filter(paper__announce_date=THROUGHPUT_DAY).exclude(
            prompt_version=LEXICAL_VERSION
        ).delete()
        LLMUsage.objects.filter(day=THROUGHPUT_DAY).delete()
        stub = llm_stub_start(canned=canned)
        stub.plan("hang", seconds=args.latency, times=len(tp_papers))
        started = time.perf_counter()
        with override_settings(OPENAI_BASE_URL=stub.base_url, LLM_CONCURRENCY=concurrency, **llm):
            report = papers_enrich(papers=tp_papers, languages=["zh"], day=THROUGHPUT_DAY)
        elapsed = time.perf_counter() - started
        stub.stop()
        rate = len(tp_papers) / elapsed
        throughput.append((concurrency, rate))
        print(
            f"concurrency {concurrency:<3}        {rate:.1f} papers/s "
            f"({report.enriched}/{len(tp_papers)} enriched in {elapsed:.2f} s, "
            f"{args.latency:g} s per answer, bound {concurrency / args.latency:.0f}/s); "
            f"stub max concurrent {stub.max_concurrent}"
        )

    print()
    _, languages, calls, tokens_in, tokens_out, written, *_ = first
    speedup = throughput[-1][1] / throughput[0][1] if len(throughput) > 1 else 1.0
    print(
        f"summary: {calls} chat calls ({args.papers} papers × {languages} languages + "
        f"{written} briefs) whatever the number of subscribers (same: {'yes' if same else 'NO'}); "
        f"{(tokens_in + tokens_out) / (args.papers * languages):.0f} tokens per "
        f"paper-language; ${tokens_cost(tokens_in, tokens_out) * 1000 / args.papers:.4f} "
        f"per 1,000 papers; concurrency {throughput[-1][0]} is {speedup:.1f}× "
        f"concurrency {throughput[0][0]}"
    )


if __name__ == "__main__":
    main()
