"""The profile editor's inferred categories: add one to the reader's categories, or drop it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from subscribers.forms import InferredCategoryForm
from subscribers.models import InterestProfile
from subscribers.session import SubscriberRequest, subscriber_required


@never_cache
@subscriber_required
@require_POST
def inferred_category(request: SubscriberRequest) -> HttpResponse:
    """Confirm (it joins the reader's categories) or drop (never inferred again) a category."""
    form = InferredCategoryForm(request.POST)
    if not form.is_valid():
        for found in form.errors.get_json_data().values():
            for error in found:
                messages.error(request, error["message"])
        return redirect("subscribers:profile")
    code, action = form.cleaned_data["category"], form.cleaned_data["action"]
    profile, _created = InterestProfile.objects.get_or_create(subscriber=request.subscriber)
    if action == "confirm":
        if code not in profile.categories:
            profile.categories = [*profile.categories, code]
        profile.dropped_categories = [c for c in profile.dropped_categories if c != code]
        messages.success(request, _("%(code)s is now one of your categories.") % {"code": code})
    else:
        if code not in profile.dropped_categories:
            profile.dropped_categories = [*profile.dropped_categories, code]
        messages.success(request, _("We will not suggest %(code)s again.") % {"code": code})
    profile.save(update_fields=["categories", "dropped_categories", "updated_at"])
    return redirect("subscribers:profile")
