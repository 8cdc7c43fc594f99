"""A chunk's item views in bulk: what `render.item_views` gives each digest, in a few queries.

One query for every item of the chunk, one for the readings per language, one for which
digests carry updated papers; each paper's shown reading and page link made once per language,
and the signed links by `FeedbackSigner` (no per-link key derivation).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from digests.mail.links import FeedbackSigner
from digests.models import Digest, DigestItem, DigestUpdate
from digests.readings import readings_for
from digests.render import ItemView, item_reasons
from digests.shown import ShownPaper, shown_paper
from newsletter.i18n import language_for_translation

__all__ = ["digests_with_updates", "item_views_bulk", "link_fields"]


def link_fields() -> dict[str, str]:
    """ItemView's signed per-reader links, field → signal ("more_url" → "more", …)."""
    return {
        f.name: f.name.removesuffix("_url")
        for f in dataclasses.fields(ItemView)
        if f.name.endswith("_url") and f.name != "paper_url"
    }


def _route(signal: str) -> str:
    # as render._feedback_url: "save for later" has its own page (pages.reader_views)
    return "public:save" if signal == "save" else "public:feedback"


def item_views_bulk(digests: Sequence[Digest]) -> dict[int, list[ItemView]]:
    """Per digest id, its items' views, equal to `item_views(digest)` for each."""
    by_digest: dict[int, list[DigestItem]] = defaultdict(list)
    items = (
        DigestItem.objects.filter(digest__in=[d.pk for d in digests])
        .select_related("paper", "topic")
        .order_by("digest_id", "rank")
    )
    for item in items:
        by_digest[item.digest_id].append(item)
    languages: dict[str, list[Digest]] = defaultdict(list)
    for digest in digests:
        languages[digest.subscriber.language].append(digest)
    signer = FeedbackSigner()
    links = {
        field: (signal, settings.SITE_URL + reverse(_route(signal), args=["TOKEN"]))
        for field, signal in link_fields().items()
    }
    views: dict[int, list[ItemView]] = {}
    for language, group in languages.items():
        papers = {i.paper_id: i.paper for d in group for i in by_digest[d.pk]}
        readings = readings_for(papers.values(), language)
        code = language_for_translation(language)
        shown: dict[int, ShownPaper] = {}
        urls: dict[int, str] = {}
        with translation.override(code):
            for digest in group:
                out = []
                for item in by_digest[digest.pk]:
                    pid = item.paper_id
                    if pid not in shown:
                        shown[pid] = shown_paper(papers[pid], readings[pid], english_abstract=False)
                        urls[pid] = (
                            settings.SITE_URL
                            + reverse("public:paper", args=[papers[pid].arxiv_id])
                            + f"?lang={code}"
                        )
                    signed = {
                        field: url.replace(
                            "TOKEN", signer.token(digest.subscriber_id, pid, signal), 1
                        )
                        for field, (signal, url) in links.items()
                    }
                    out.append(
                        ItemView(
                            item=item,
                            shown=dataclasses.replace(shown[pid], relevance=item.relevance),
                            reasons=item_reasons(item, readings[pid], language),
                            paper_url=urls[pid],
                            **signed,
                        )
                    )
                views[digest.pk] = out
    return views


def digests_with_updates(digests: Sequence[Digest]) -> set[int]:
    """The digests that carry updated papers (the others need no `update_views` queries)."""
    return set(
        DigestUpdate.objects.filter(digest__in=[d.pk for d in digests]).values_list(
            "digest_id", flat=True
        )
    )
