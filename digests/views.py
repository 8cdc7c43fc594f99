"""Public pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation

from digests.lexical import LEXICAL_VERSION
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Digest, Enrichment, Paper, Topic
from digests.render import item_views
from newsletter.i18n import language_for_translation
from subscribers.tokens import BadToken, digest_token_read


def home(request: HttpRequest) -> HttpResponse:
    """The front page: what the service is, the featured topics and the latest day's count."""
    latest = (
        Paper.objects.order_by("-announce_date").values_list("announce_date", flat=True).first()
    )
    context = {
        "topics": Topic.objects.filter(featured=True, parent=None),
        "latest_date": latest,
        "latest_count": Paper.objects.filter(announce_date=latest).count() if latest else 0,
    }
    return render(request, "home.html", context)


def paper_detail(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    """One paper: its arXiv fields and its readings in every language we hold."""
    paper = get_object_or_404(Paper, arxiv_id=arxiv_id)
    readings = Enrichment.objects.filter(
        paper=paper,
        paper_version=paper.version,
        status=Enrichment.Status.OK,
        prompt_version=ENRICH_PROMPT_VERSION,
    ).order_by("language")
    lexical = Enrichment.objects.filter(
        paper=paper, paper_version=paper.version, prompt_version=LEXICAL_VERSION
    ).first()
    topics = Topic.objects.in_bulk(
        [
            hit["topic"]
            for r in [*readings, *([lexical] if lexical else [])]
            for hit in r.topic_hits
        ],
        field_name="slug",
    )
    shown = [
        (
            reading,
            [
                (topics[hit["topic"]].name(reading.language), hit["reason"])
                for hit in reading.topic_hits
                if hit["topic"] in topics
            ],
        )
        for reading in readings
    ]
    return render(request, "paper.html", {"paper": paper, "readings": shown, "lexical": lexical})


def digest_detail(request: HttpRequest, token: str) -> HttpResponse:
    """A digest's "view in browser" page: every item, the English abstracts too."""
    try:
        digest_id = digest_token_read(token)
    except BadToken:
        return render(request, "subscribers/link_invalid.html", status=400)
    digest = get_object_or_404(Digest.objects.select_related("subscriber"), pk=digest_id)
    with translation.override(language_for_translation(digest.subscriber.language)):
        return render(request, "digest.html", {"digest": digest, "items": item_views(digest)})
