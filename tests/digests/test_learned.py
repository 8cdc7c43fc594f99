"""Each reader's own model, learned from "more like this" and clicks once there are enough."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from digests.models import Delivery, Feedback
from digests.scoring.inputs import profile_rows
from digests.scoring.learned import MIN_NEGATIVES, MIN_POSITIVES, reader_model_train
from digests.scoring.paper_index import PaperIndex
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.scores import scores_compute
from digests.scoring.signals import Signal
from tests.factories import (
    make_digest,
    make_digest_item,
    make_feedback,
    make_paper,
    make_subscriber,
)

DAY = dt.date(2026, 6, 18)

LIKED = [
    ("Neural decoders for the surface code", "A transformer decodes surface code syndromes."),
    ("Decoding quantum LDPC codes with belief propagation", "Syndrome decoding of qLDPC codes."),
    ("Lattice surgery with surface codes", "Logical qubits of surface codes merged by surgery."),
    ("Fault-tolerant magic state distillation", "Magic states for surface code computation."),
    ("Real-time decoding on FPGAs", "Decoder latency for superconducting surface codes."),
    ("Erasure qubits and surface code thresholds", "Erasure conversion raises the threshold."),
]
LEFT_ALONE = [
    ("Galaxy rotation curves of dwarf galaxies", "Dark matter halos from rotation curves."),
    ("Stellar streams in the Milky Way halo", "Streams trace the galactic potential."),
    ("Weak lensing of galaxy clusters", "Shear profiles of massive clusters."),
    ("Fast radio bursts from magnetars", "Radio bursts and their host galaxies."),
    ("Supernova cosmology with type Ia", "Distances from supernova light curves."),
    ("Exoplanet atmospheres with JWST", "Transmission spectra of hot Jupiters."),
]
TODAY = [
    PaperRow(
        id=1,
        title="A union-find decoder for surface code syndromes",
        abstract="We decode surface code syndromes in real time.",
        authors=[],
        affiliations=[],
        categories=["quant-ph"],
    ),
    PaperRow(
        id=2,
        title="Rotation curves of low surface brightness galaxies",
        abstract="Dark matter halos of dwarf galaxies.",
        authors=[],
        affiliations=[],
        categories=["astro-ph.GA"],
    ),
    PaperRow(
        id=3,
        title="Protein folding with language models",
        abstract="Structure prediction from sequence.",
        authors=[],
        affiliations=[],
        categories=["q-bio.BM"],
    ),
]


def _scored(profile: ProfileRow):
    index = PaperIndex(TODAY, [profile], semantic="none")
    (chunk,) = scores_compute(TODAY, [profile], index=index)
    return chunk.relevance[0].astype(int), chunk.shares(0), index


def test_the_model_waits_for_enough_examples_on_both_sides():
    index = PaperIndex(TODAY, [], semantic="none")
    assert reader_model_train(LIKED[: MIN_POSITIVES - 1], LEFT_ALONE, index) is None
    assert reader_model_train(LIKED, LEFT_ALONE[: MIN_NEGATIVES - 1], index) is None
    assert reader_model_train(LIKED, LEFT_ALONE, index) is not None


def test_alone_the_model_ranks_a_paper_like_the_liked_ones_first():
    reader = ProfileRow(id=1, learn_positives=LIKED, learn_negatives=LEFT_ALONE)
    relevance, shares, _ = _scored(reader)
    assert relevance[0] > 0 and relevance[1] == 0 and relevance[2] == 0
    assert shares.largest(0) == Signal.FEEDBACK_MORE


def test_fused_the_model_replaces_rocchio_and_adds_to_the_other_signals():
    interests = "galaxy rotation curves"
    with_model = ProfileRow(
        id=1,
        interests=interests,
        more_texts=["Protein folding with language models"],  # Rocchio would favour paper 3
        learn_positives=LIKED,
        learn_negatives=LEFT_ALONE,
    )
    _, shares, _ = _scored(with_model)
    assert Signal.FEEDBACK_MORE in shares.of(0) and Signal.TEXT in shares.of(1)
    assert Signal.FEEDBACK_MORE not in shares.of(2)  # the model, not Rocchio, speaks for "more"
    too_few = ProfileRow(
        id=1,
        interests=interests,
        more_texts=["Protein folding with language models"],
        learn_positives=LIKED[: MIN_POSITIVES - 1],
        learn_negatives=LEFT_ALONE,
    )
    _, rocchio, _ = _scored(too_few)
    assert Signal.FEEDBACK_MORE in rocchio.of(2) and Signal.FEEDBACK_MORE not in rocchio.of(0)


@pytest.fixture
def postmark(settings, client):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret"}
    auth = "Basic " + base64.b64encode(b"hook:s3cret").decode()

    def click(message_id: str, recipient: str, link: str):
        payload = {"RecordType": "Click", "MessageID": message_id, "Recipient": recipient,
                   "ReceivedAt": "2026-06-19T09:01:00Z", "OriginalLink": link, "Tag": "digest",
                   "Metadata": {}, "MessageStream": "outbound"}  # fmt: skip
        return client.post(
            "/anymail/postmark/tracking/",
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )

    return click


@pytest.mark.django_db
def test_clicks_the_esp_reports_become_positive_examples_and_never_override_a_word(postmark):
    reader = make_subscriber(email="reads@example.org")
    digest = make_digest(subscriber=reader, issue_date=DAY - dt.timedelta(days=1))
    clicked, disliked, elsewhere = make_paper(), make_paper(), make_paper()
    make_digest_item(digest=digest, paper=clicked)
    make_digest_item(digest=digest, paper=disliked)
    Delivery.objects.create(digest=digest, status="sent", esp_message_id="msg-7")
    make_feedback(subscriber=reader, paper=disliked, signal=Feedback.Signal.LESS)

    postmark("msg-7", "reads@example.org", f"https://example.org/papers/{clicked.arxiv_id}/")
    postmark("msg-7", "reads@example.org", f"https://arxiv.org/pdf/{disliked.arxiv_id}v1")
    postmark("msg-7", "reads@example.org", f"https://arxiv.org/abs/{elsewhere.arxiv_id}")
    postmark("msg-7", "reads@example.org", "https://example.org/f/some-token/")

    signals = dict(Feedback.objects.filter(subscriber=reader).values_list("paper_id", "signal"))
    assert signals == {clicked.pk: "click", disliked.pk: "less"}  # not in the digest: nothing


@pytest.mark.django_db
def test_profile_rows_learn_from_likes_and_clicks_against_what_was_shown_and_left():
    reader = make_subscriber(keywords=["surface code"])
    earlier = make_digest(subscriber=reader, issue_date=DAY - dt.timedelta(days=1))
    liked = [make_paper(title=t, abstract=a) for t, a in LIKED[:MIN_POSITIVES]]
    shown = [make_paper(title=t, abstract=a) for t, a in LEFT_ALONE]
    for paper in liked + shown:
        make_digest_item(digest=earlier, paper=paper)
    for n, paper in enumerate(liked):
        signal = Feedback.Signal.CLICK if n % 2 else Feedback.Signal.MORE
        make_feedback(subscriber=reader, paper=paper, signal=signal)
    later = make_digest(subscriber=reader, issue_date=DAY)  # today's own picks are not "left"
    make_digest_item(digest=later, paper=make_paper(title="Shown today"))

    (row,) = profile_rows([reader], day=DAY)

    assert sorted(t for t, _ in row.learn_positives) == sorted(t for t, _ in LIKED[:MIN_POSITIVES])
    assert sorted(t for t, _ in row.learn_negatives) == sorted(t for t, _ in LEFT_ALONE)
    assert len(row.more_texts) == (MIN_POSITIVES + 1) // 2  # clicks train the model only
    few = make_subscriber()
    make_feedback(subscriber=few, paper=liked[0])
    make_digest_item(digest=make_digest(subscriber=few, issue_date=DAY - dt.timedelta(days=1)))
    (few_row,) = profile_rows([few], day=DAY)
    assert few_row.learn_negatives == []  # too few positives: no need to read what was shown
