"""A chunk's digests are written in a few bulk statements, briefs put together from the day's
parts; a digest another worker wrote first is kept, never doubled."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from digests.assemble import digests_assemble
from digests.enrich import lexical_enrich
from digests.llm.prompts import BRIEF_PROMPT_VERSION
from digests.models import Digest, DigestItem, Paper, TopicBrief
from subscribers.models import Subscriber
from tests.factories import make_paper, make_subscriber, make_topic

DAY = dt.date(2026, 6, 18)


def _day(readers: int) -> list[Subscriber]:
    topic = make_topic(
        slug="post-training", names={"en": "Post-training", "zh": "后训练"},
        keywords=["preference optimization"],
    )  # fmt: skip
    papers = [
        make_paper(
            arxiv_id=f"2606.{18100 + n}",
            title=f"Preference optimization with reinforcement learning, part {n}",
            abstract="We study preference optimization and reinforcement learning.",
            categories=["cs.LG"],
            announce_date=DAY,
        )
        for n in range(6)
    ]
    lexical_enrich(list(Paper.objects.all()))
    TopicBrief.objects.create(
        topic=topic, date=DAY, language="en", prompt_version=BRIEF_PROMPT_VERSION,
        text="Two papers push preference optimization [1] further [2].",
        paper_ids=[papers[3].pk, papers[0].pk],
    )  # fmt: skip
    for n in range(readers):
        make_subscriber(
            email=f"bulk{n}@example.org", language="en" if n % 2 else "zh", topics=[topic],
            keywords=["reinforcement learning"], min_relevance=1,
        )  # fmt: skip
    return list(
        Subscriber.objects.select_related("profile")
        .prefetch_related("profile__topics")
        .order_by("pk")
    )


@pytest.mark.django_db
def test_a_chunk_is_written_in_the_same_few_statements_whatever_its_size():
    # given a day and readers in two languages
    readers = _day(12)

    # when a chunk of 2 and a chunk of 10 are assembled
    counts = []
    for chunk in (readers[:2], readers[2:]):
        with CaptureQueriesContext(connection) as queries:
            digests_assemble(subscribers=chunk, issue_date=DAY)
        counts.append(sum(q["sql"].lstrip().upper().startswith("INSERT") for q in queries))

    # then each chunk's digests and items took the same INSERT statements
    assert counts[0] == counts[1] <= 3
    assert Digest.objects.count() == 12
    assert DigestItem.objects.filter(digest__subscriber=readers[5]).count() == 6
    # and the English reader's brief is the topic's, its citations renumbered to their ranks
    digest = Digest.objects.get(subscriber=readers[1])
    ranks = dict(digest.items.values_list("paper__arxiv_id", "rank"))
    first, second = ranks["2606.18103"], ranks["2606.18100"]
    assert digest.brief.startswith(
        f"Post-training: Two papers push preference optimization [{first}] further [{second}]."
    )
    assert "后训练" in Digest.objects.get(subscriber=readers[0]).brief  # lexical, in Chinese


@pytest.mark.django_db
def test_a_digest_another_worker_wrote_first_is_kept_and_the_rest_written():
    # given a chunk, one of whose digests another worker writes between our check and our write
    readers = _day(4)
    import digests.assemble as assemble

    write = assemble._digests_write

    def raced(made: list) -> list[Digest]:
        theirs = made[2].digest
        Digest.objects.create(
            subscriber=theirs.subscriber, issue_date=DAY, brief="theirs", status="assembled"
        )
        return write(made)

    assemble._digests_write = raced
    try:
        digests = digests_assemble(subscribers=readers, issue_date=DAY)
    finally:
        assemble._digests_write = write

    # then there is one digest per reader, the other worker's kept as it was, with no items of ours
    assert Digest.objects.count() == 4
    assert [d.subscriber_id for d in digests] == [r.pk for r in readers]
    kept = Digest.objects.get(subscriber=readers[2])
    assert kept.brief == "theirs" and digests[2].pk == kept.pk
    assert not kept.items.exists()
    assert DigestItem.objects.filter(digest__subscriber=readers[3]).count() == 6

    # and assembling the chunk again changes nothing
    again = digests_assemble(subscribers=readers, issue_date=DAY)
    assert [d.pk for d in again] == [d.pk for d in digests]
    assert Digest.objects.count() == 4
