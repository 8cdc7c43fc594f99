"""The profile editor, its live preview, and the request to change the address.

Thin views: `subscribers.forms` checks, `subscribers.signup` saves, `digests.preview` ranks.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from subscribers.email_change import subscriber_email_change_request
from subscribers.forms import (
    PROFILE_FIELDS,
    SUBSCRIBER_FIELDS,
    EmailChangeForm,
    ProfileForm,
    profile_initial,
)
from subscribers.models import InterestProfile, Subscriber
from subscribers.papers_side import papers_side
from subscribers.ratelimit import Limit, limit_hit
from subscribers.session import SubscriberRequest, subscriber_required
from subscribers.signup import profile_update
from subscribers.tasks import email_change_mail_deliver
from subscribers.tokens import unsubscribe_token
from subscribers.views.library_section import library_context

PREVIEW_LIMIT = Limit("profile-preview", count=120, seconds=60)
EMAIL_CHANGE_LIMIT = Limit("email-change", count=5, seconds=60 * 60)


def _profile(subscriber: Subscriber) -> InterestProfile:
    profile, _created = InterestProfile.objects.prefetch_related("topics").get_or_create(
        subscriber=subscriber
    )
    subscriber.profile = profile  # both sides cached: no query reads one from the other
    return profile


def _status_text(preview: Any) -> str:
    if preview.issue_date is None:
        return _("No papers have been announced yet.")
    return ngettext(
        "Your digest for %(date)s: %(shown)d of %(considered)d paper.",
        "Your digest for %(date)s: %(shown)d of %(considered)d papers.",
        preview.considered,
    ) % {
        "date": preview.issue_date.isoformat(),
        "shown": len(preview.items),
        "considered": preview.considered,
    }


def _editor(
    request: SubscriberRequest,
    *,
    profile: InterestProfile,
    form: ProfileForm,
    email_form: EmailChangeForm,
    library: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The editor page; its preview is the stored profile's, so it shows without JavaScript.
    `library`: the library section's forms after a failed post (`library_context`)."""
    subscriber: Subscriber = request.subscriber
    stored = profile_initial(profile)
    preview = papers_side().profile_preview(
        subscriber=subscriber,
        subscriber_fields={k: stored[k] for k in SUBSCRIBER_FIELDS},
        profile_fields={k: stored[k] for k in PROFILE_FIELDS},
        topics=stored["topics"],
    )
    context: dict[str, Any] = {
        "form": form,
        "email_form": email_form,
        "subscriber": subscriber,
        "preview": preview,
        "preview_status": _status_text(preview),
        "seeds": papers_side().seeds_status(profile.seed_papers),
        "unsubscribe_url": reverse(
            "subscribers:unsubscribe",
            args=[unsubscribe_token(subscriber_id=subscriber.pk, email=subscriber.email)],
        ),
        **library_context(subscriber, number=request.GET.get("library"), **(library or {})),
    }
    return render(request, "subscribers/profile.html", context, status=status)


@never_cache
@subscriber_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: SubscriberRequest) -> HttpResponse:
    profile = _profile(request.subscriber)
    if request.method == "GET":
        form = ProfileForm(initial=profile_initial(profile), followed=profile.topics.all())
        return _editor(request, profile=profile, form=form, email_form=EmailChangeForm())
    form = ProfileForm(request.POST, followed=profile.topics.all())
    if not form.is_valid():
        return _editor(
            request, profile=profile, form=form, email_form=EmailChangeForm(), status=400
        )
    profile_update(
        subscriber=request.subscriber,
        subscriber_fields=form.subscriber_fields(),
        profile_fields=form.profile_fields(),
        topics=form.topic_list(),
    )
    # Seed papers we do not hold are fetched from arXiv by a task, off the request.
    papers_side().seeds_lookup(form.profile_fields().get("seed_papers", []))
    messages.success(request, _("Your profile is saved."))
    return redirect("subscribers:profile")


@never_cache
@subscriber_required
@require_POST
def profile_preview(request: SubscriberRequest) -> JsonResponse:
    """The digest the form's profile would have received for the last announcement day."""
    if limit_hit(PREVIEW_LIMIT, str(request.subscriber.pk)):
        return JsonResponse({"error": _("Too many previews; wait a minute.")}, status=429)
    followed = papers_side().topic_model._default_manager.filter(
        profiles__subscriber=request.subscriber
    )
    form = ProfileForm(request.POST, followed=followed)
    if not form.is_valid():
        errors = {
            name: [e["message"] for e in found]
            for name, found in form.errors.get_json_data().items()
        }
        return JsonResponse({"errors": errors}, status=400)
    preview = papers_side().profile_preview(
        subscriber=request.subscriber,
        subscriber_fields=form.subscriber_fields(),
        profile_fields=form.profile_fields(),
        topics=form.topic_list(),
    )
    return JsonResponse({**preview.as_json(), "status": _status_text(preview)})


@never_cache
@subscriber_required
@require_POST
def email_change(request: SubscriberRequest) -> HttpResponse:
    subscriber: Subscriber = request.subscriber
    profile = _profile(subscriber)
    email_form = EmailChangeForm(request.POST)
    if not email_form.is_valid():
        form = ProfileForm(initial=profile_initial(profile), followed=profile.topics.all())
        return _editor(request, profile=profile, form=form, email_form=email_form, status=400)
    new_email = email_form.cleaned_data["email"]
    if limit_hit(EMAIL_CHANGE_LIMIT, str(subscriber.pk)):
        return render(request, "subscribers/email_change_limited.html", status=429)
    new_email = subscriber_email_change_request(subscriber=subscriber, new_email=new_email)
    if new_email is None:
        messages.info(request, _("That is already your address."))
        return redirect("subscribers:profile")
    email_change_mail_deliver.delay(subscriber.pk, new_email)  # an ESP outage costs no 500
    return render(request, "subscribers/email_change_sent.html", {"email": new_email})
