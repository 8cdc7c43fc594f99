"""Admin for subscribers and their interest profiles."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from subscribers.models import InterestProfile, Subscriber

__all__ = ["InterestProfileAdmin", "InterestProfileInline", "SubscriberAdmin"]

PROFILE_FIELDSETS = [
    (None, {"fields": ["topics", "keywords", "exclude_keywords", "interests"]}),
    ("People and sources", {"fields": ["authors", "institutions", "categories", "seed_papers"]}),
    ("Digest size", {"fields": ["max_items", "min_relevance", "updated_at"]}),
]


class InterestProfileInline(admin.StackedInline):
    model = InterestProfile
    can_delete = False
    fieldsets = PROFILE_FIELDSETS
    autocomplete_fields = ["topics"]
    readonly_fields = ["updated_at"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "status",
        "language",
        "timezone",
        "delivery_time",
        "frequency",
        "created_at",
        "confirmed_at",
    ]
    list_filter = ["status", "frequency", "language"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "confirmed_at", "unsubscribed_at"]
    fieldsets = [
        (None, {"fields": ["email", "status"]}),
        ("Delivery", {"fields": ["language", "timezone", "delivery_time", "frequency"]}),
        ("History", {"fields": ["created_at", "confirmed_at", "unsubscribed_at"]}),
    ]
    inlines = [InterestProfileInline]

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list, change: bool
    ) -> None:
        """Give every subscriber a profile, even when the inline was left untouched."""
        super().save_related(request, form, formsets, change)
        InterestProfile.objects.get_or_create(subscriber=form.instance)


@admin.register(InterestProfile)
class InterestProfileAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "topic_count", "max_items", "min_relevance", "updated_at"]
    list_select_related = ["subscriber"]
    list_filter = ["topics"]
    search_fields = ["subscriber__email", "interests"]
    autocomplete_fields = ["subscriber", "topics"]
    readonly_fields = ["updated_at"]
    fieldsets = [(None, {"fields": ["subscriber"]}), *PROFILE_FIELDSETS]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InterestProfile]:
        return super().get_queryset(request).annotate(topic_count=Count("topics", distinct=True))

    @admin.display(description="topics", ordering="topic_count")
    def topic_count(self, profile: InterestProfile) -> int:
        return profile.topic_count
