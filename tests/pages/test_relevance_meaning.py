"""One relevance, one meaning: the % on a topic page is the % in the e-mail of a reader who
follows only that topic (the scorer's 100 × (1 − e^−evidence) for that reader)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from digests.assemble import digest_assemble
from digests.models import AnnounceType
from digests.render import digest_render
from tests.factories import make_subscriber
from tests.pages.test_public_pages import DAY, _paper, _topics

_EMAIL_ITEM = re.compile(r"^\d{2}\. \[(\d+)%\].*?arXiv:(\S+?)v\d+ ", re.DOTALL | re.MULTILINE)
_PAGE_ITEM = re.compile(
    r'id="paper-([^"]+)".*?<span class="badge relevance"[^>]*>(\d+)%</span>', re.DOTALL
)


@pytest.mark.django_db
def test_the_topic_page_shows_the_percent_a_reader_of_that_topic_alone_gets_by_email(client):
    # given the day's papers: hits of the topic and of its sub-topic at several strengths, a
    # replacement (ranked below new papers), a cross-list, and a paper of another topic
    llm, _post, _quantum = _topics()
    papers = [
        _paper(score=70, title="Plain hit"),
        _paper(score=95, topic="post-training", announce_type=AnnounceType.REPLACE),
        _paper(score=40, title="Weak hit"),
        _paper(score=88, announce_type=AnnounceType.CROSS, title="Cross-listed"),
        _paper(score=99, topic="quantum", title="Qubits"),
    ]
    # and a reader who follows that topic and nothing else, with every paper above zero wanted
    reader = make_subscriber(topics=[llm], min_relevance=1, language="zh")

    # when the reader's e-mail and the topic page are rendered
    text = digest_render(digest_assemble(subscriber=reader, issue_date=DAY)).text
    html = client.get(reverse("public:topic", args=["llm"]), HTTP_ACCEPT_LANGUAGE="zh").content

    # then both show the same papers with the same percentages
    in_email = {arxiv_id: int(pct) for pct, arxiv_id in _EMAIL_ITEM.findall(text)}
    on_page = {arxiv_id: int(pct) for arxiv_id, pct in _PAGE_ITEM.findall(html.decode())}
    assert len(in_email) == 4 and papers[-1].arxiv_id not in in_email
    assert on_page == in_email
    # and they are the scorer's, not the LLM's topic-hit scores
    assert in_email[papers[0].arxiv_id] != 70
    assert in_email[papers[1].arxiv_id] < in_email[papers[0].arxiv_id]  # a damped replacement
