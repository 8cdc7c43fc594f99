"""A subscriber's private Atom feed: their digests, one entry each, at a secret address.

The address holds a random key (`subscribers.feed_keys`).
Entry content is HTML rendered by the template engine (paper and model text escaped), then
escaped once more as XML text by the feed generator: it reaches a reader as text only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from digests.models import Digest
from digests.render import digest_subject, item_views
from newsletter.i18n import language_for_translation
from subscribers.feed_keys import feed_url
from subscribers.models import Subscriber
from subscribers.tokens import digest_token

__all__ = ["FEED_ENTRIES", "feed_build"]

FEED_ENTRIES = 30  # the latest digests; a feed reader keeps the older ones itself


class DigestAtomFeed(Atom1Feed):
    """Atom with a full `<content type="html">` per entry (Django's writes only a summary)."""

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


def _entry_id(digest: Digest) -> str:
    """A stable tag URI (RFC 4151): the same digest keeps its id whatever the feed's key."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"tag:{host},{digest.created_at:%Y-%m-%d}:digest/{digest.pk}"


def feed_build(*, subscriber: Subscriber) -> DigestAtomFeed:
    """The feed of the subscriber's latest digests, in their language."""
    digests = list(
        Digest.objects.filter(subscriber=subscriber)
        .exclude(status=Digest.Status.EMPTY)
        .select_related("subscriber", "delivery")
        .annotate(update_count=Count("updates"))  # the subject of an updates-only digest
        .order_by("-issue_date")[:FEED_ENTRIES]
    )
    language = language_for_translation(subscriber.language)
    with translation.override(language):
        feed = DigestAtomFeed(
            title=_("arXiv Digest for %(email)s") % {"email": subscriber.email},
            link=settings.SITE_URL + "/",
            description="",
            feed_url=feed_url(subscriber),
            language=language,
            author_name="arXiv Digest",
            feed_guid=f"tag:{urlsplit(settings.SITE_URL).hostname or 'localhost'},2026:"
            f"feed/{subscriber.pk}",
        )
        for digest in digests:
            views = item_views(digest)
            view_url = settings.SITE_URL + reverse(
                "public:digest", args=[digest_token(digest_id=digest.pk)]
            )
            delivery = getattr(digest, "delivery", None)
            published = (delivery.sent_at if delivery else None) or digest.created_at
            context = {"digest": digest, "items": views, "view_url": view_url}
            feed.add_item(
                title=digest_subject(digest, views, digest.update_count),
                link=view_url,
                description=digest.brief or None,  # type: ignore[arg-type]  # None: no summary
                unique_id=_entry_id(digest),
                pubdate=published,
                updateddate=published,
                content=render_to_string("subscribers/feed_entry.html", context),
            )
    return feed
