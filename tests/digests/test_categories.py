"""Category inference on real arXiv papers: a day of all 20 archives, as ingested Paper rows."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from defusedxml import ElementTree

from digests.models import Feedback, Paper
from digests.preview import _draft
from digests.scoring.categories import (
    FLOOR,
    Evidence,
    categories_infer,
    category_model,
    model_train,
)
from digests.scoring.inputs import profile_rows
from tests.factories import make_subscriber

DAY = dt.date(2024, 11, 28)
_ARXIV = "{http://arxiv.org/schemas/atom}"


def recorded_items(shared: Path) -> list[dict]:
    """The items of the recorded all-archives feed: id, title, abstract, categories."""
    root = ElementTree.parse(shared / "arxiv-rss-all-archives-2024-11-28.xml").getroot()
    items = []
    for item in root.iter("item"):
        guid = item.findtext("guid", "").rsplit(":", 1)[-1]
        arxiv_id, _, version = guid.rpartition("v")
        abstract = item.findtext("description", "").split("Abstract:", 1)[-1].strip()
        categories = [c.text or "" for c in item.findall("category")]
        announce_type = item.findtext(f"{_ARXIV}announce_type", "new").strip()
        items.append(
            {
                "arxiv_id": arxiv_id,
                "version": int(version),
                "title": item.findtext("title", ""),
                "abstract": abstract,
                "categories": categories,
                "primary_category": categories[0],
                "announce_type": announce_type,
            }
        )
    return items


def papers_from_recording(shared: Path, day: dt.date = DAY) -> list[Paper]:
    return Paper.objects.bulk_create(
        [Paper(announce_date=day, **item) for item in recorded_items(shared)]
    )


READERS = [
    ("speech recognition, spoken language models and text to speech", {"eess.AS", "cs.SD"}),
    ("dark matter halos and galaxy formation", {"astro-ph.GA", "astro-ph.CO"}),
    ("quantum error correction and fault-tolerant quantum computing", {"quant-ph"}),
    ("robots that learn to grasp objects", {"cs.RO"}),
    ("black hole mergers and gravitational waves", {"gr-qc"}),
    ("diffusion models for image generation", {"cs.CV"}),
    ("large language models: reasoning, instruction tuning, machine translation", {"cs.CL"}),
]


@pytest.mark.parametrize(("interests", "expected"), READERS)
def test_free_text_names_the_categories_arxiv_files_such_papers_under(
    shared_recordings, interests, expected
):
    items = recorded_items(shared_recordings)
    model = model_train((i["title"], i["abstract"], i["categories"]) for i in items)

    inferred = categories_infer(Evidence(texts=[interests]), model=model)

    assert set(inferred) & expected, inferred
    assert len(inferred) <= 4 and all(FLOOR <= w <= 1 for w in inferred.values())
    assert max(inferred, key=inferred.__getitem__) in expected


def test_text_about_nothing_arxiv_holds_infers_nothing(shared_recordings):
    items = recorded_items(shared_recordings)
    computer_science = [i for i in items if i["primary_category"].startswith("cs.")]
    model = model_train((i["title"], i["abstract"], i["categories"]) for i in computer_science)

    assert (
        categories_infer(Evidence(texts=["cooking recipes and gardening tips"]), model=model) == {}
    )
    # astrophysics asked of a model that knows only computer science: nothing to go on
    astro = Evidence(texts=["dark matter halos and galaxy formation"])
    assert categories_infer(astro, model=model) == {}


def test_named_and_dropped_categories_are_not_inferred(shared_recordings):
    items = recorded_items(shared_recordings)
    model = model_train((i["title"], i["abstract"], i["categories"]) for i in items)
    text = ["speech recognition, spoken language models and text to speech"]

    inferred = categories_infer(
        Evidence(texts=text, known=["eess.AS"], dropped=["cs.SD"]), model=model
    )

    assert "eess.AS" not in inferred and "cs.SD" not in inferred
    assert "cs.CL" in inferred


def test_seed_papers_speak_for_themselves_primary_over_cross_list():
    inferred = categories_infer(
        Evidence(paper_categories=[["hep-th", "gr-qc"]]), model=model_train([])
    )
    assert inferred == {"hep-th": 1.0, "gr-qc": 0.5}


@pytest.mark.django_db
def test_profile_rows_carry_inferred_categories_from_text_seeds_and_likes(shared_recordings):
    papers = {p.arxiv_id: p for p in papers_from_recording(shared_recordings)}
    seed = next(p for p in papers.values() if p.primary_category == "math.AP")
    liked = next(p for p in papers.values() if p.primary_category == "cond-mat.supr-con")
    text_only = make_subscriber(interests="gravitational waves from black hole mergers")
    seeds_only = make_subscriber(seed_papers=[seed.versioned_id])
    named = make_subscriber(
        categories=["gr-qc"], interests="gravitational waves from black hole mergers"
    )
    Feedback.objects.create(subscriber=seeds_only, paper=liked, signal=Feedback.Signal.MORE)
    text_only.profile.dropped_categories = ["astro-ph.HE"]
    text_only.profile.save()

    rows = {r.id: r for r in profile_rows([text_only, seeds_only, named])}

    assert "gr-qc" in rows[text_only.pk].inferred_categories
    assert "astro-ph.HE" not in rows[text_only.pk].inferred_categories
    assert rows[seeds_only.pk].inferred_categories["math.AP"] == 1.0
    assert rows[seeds_only.pk].inferred_categories["cond-mat.supr-con"] == 1.0
    assert "gr-qc" not in rows[named.pk].inferred_categories  # named, not inferred
    # the editor's live preview drafts the profile from the form: what was dropped stays dropped
    text_only.profile.dropped_categories = ["gr-qc"]
    text_only.profile.save()
    draft = _draft(text_only, {}, {"interests": text_only.profile.interests}, [])
    (drafted,) = profile_rows([draft])
    assert "gr-qc" not in drafted.inferred_categories


@pytest.mark.django_db
def test_the_model_is_trained_once_per_day_of_papers(shared_recordings, django_assert_num_queries):
    papers_from_recording(shared_recordings)
    first = category_model()
    assert first.papers > 1000 and "quant-ph" in first.categories
    with django_assert_num_queries(2):  # the latest day and its count: no training
        assert category_model() is first


def test_a_runner_up_category_weighs_less_than_the_best(shared_recordings):
    items = recorded_items(shared_recordings)
    model = model_train((i["title"], i["abstract"], i["categories"]) for i in items)
    text = "Machine learning research: training neural networks, generalization, optimization"

    inferred = categories_infer(Evidence(texts=[text]), model=model)

    best = max(inferred, key=inferred.__getitem__)
    assert best == "cs.LG" and inferred[best] == 1.0
    assert all(w < 0.8 for c, w in inferred.items() if c != best), inferred


@pytest.mark.django_db
def test_keywords_say_what_field_a_reader_reads(shared_recordings):
    papers_from_recording(shared_recordings)
    reader = make_subscriber(keywords=["black hole", "gravitational waves", "spacetime"])

    (row,) = profile_rows([reader])

    assert max(row.inferred_categories, key=row.inferred_categories.__getitem__) == "gr-qc"


@pytest.mark.django_db
def test_categories_are_read_against_the_weeks_up_to_the_day_scored(shared_recordings):
    papers_from_recording(shared_recordings)
    later = DAY + dt.timedelta(days=200)  # a later day holding computer science only
    Paper.objects.bulk_create(
        [
            Paper(**{**item, "arxiv_id": f"9{item['arxiv_id']}", "announce_date": later})
            for item in recorded_items(shared_recordings)
            if item["primary_category"].startswith("cs.")
        ]
    )
    reader = make_subscriber(interests="black hole mergers and gravitational waves")

    assert "gr-qc" not in category_model().categories  # the latest weeks: no gr-qc paper
    assert "gr-qc" in category_model(DAY).categories
    assert "gr-qc" in profile_rows([reader], day=DAY)[0].inferred_categories
    assert "gr-qc" not in profile_rows([reader], day=later)[0].inferred_categories


def test_an_inferred_category_alone_stays_below_the_default_minimum_relevance():
    from digests.scoring.signals import CAPS, WEIGHTS
    from subscribers.models import InterestProfile

    default = InterestProfile._meta.get_field("min_relevance").default
    most = WEIGHTS["prior_primary"] * CAPS["prior"]  # primary and cross-lists together
    assert round(100 * (1 - math.exp(-most))) < default
