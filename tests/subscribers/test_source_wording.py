"""Sign-up and profile wording for every source: the categories field names arXiv categories and
bioRxiv/medRxiv subjects (help, error), in English and Chinese; the labels of the preprints'
pages and seeds have their Chinese."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext as _

from subscribers.models import InterestProfile

SIGNUP = "/subscribe/"


def _form(**fields: str) -> dict:
    data = {
        "email": "bio@example.org", "language": "en", "keywords": "", "authors": "",
        "categories": "", "interests": "", "timezone": "UTC", "delivery_time": "07:30",
        "frequency": "daily", "website": "",
    }  # fmt: skip
    data.update(fields)
    return data


@pytest.mark.django_db
def test_the_signup_form_names_categories_and_subjects(client):
    html = client.get(SIGNUP, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "arXiv categories or bioRxiv/medRxiv subjects" in html
    assert "biorxiv:neuroscience, medrxiv:infectious_diseases" in html
    chinese = client.get(SIGNUP, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "arXiv 分类或 bioRxiv/medRxiv 学科" in chinese
    assert "空格用下划线代替" in chinese


@pytest.mark.django_db
def test_a_subject_is_accepted_and_an_unknown_one_is_named_in_the_error(client, outbox_dir):
    # when a newcomer names a real bioRxiv subject with an arXiv category
    ok = client.post(SIGNUP, _form(categories="biorxiv:neuroscience, cs.CL"))
    # then they are signed up with both
    assert ok.status_code in {200, 302}
    profile = InterestProfile.objects.get(subscriber__email="bio@example.org")
    assert profile.categories == ["biorxiv:neuroscience", "cs.CL"]
    # when another names a subject no server has
    bad = client.post(
        SIGNUP,
        _form(email="other@example.org", categories="medrxiv:astrology"),
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    # then the error names it, in the reader's language
    assert bad.status_code == 400
    assert "未知的 arXiv 分类或 bioRxiv/medRxiv 学科：medrxiv:astrology。" in bad.content.decode()


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Full text", "全文"),
        ("published in", "已发表于"),
        ("new results", "新结果"),
        ("confirmatory results", "验证性结果"),
        ("contradictory results", "矛盾性结果"),
        ("withdrawn", "已撤稿"),
        ("Source", "来源"),
        ("not found on bioRxiv or medRxiv", "bioRxiv 和 medRxiv 上均未找到"),
    ],
)
def test_the_preprint_labels_have_their_chinese(english, chinese):
    with translation.override("zh-hans"):
        assert _(english) == chinese
