"""A subscriber and their interest profile."""

from __future__ import annotations

import datetime as dt

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now

__all__ = [
    "MAX_ITEMS_BOUNDS",
    "MIN_RELEVANCE_BOUNDS",
    "Frequency",
    "HeldSignup",
    "InterestProfile",
    "LibraryEntry",
    "Subscriber",
    "SubscriberStatus",
    "TrackingEvent",
    "ZoteroLink",
]

# Lowest and highest allowed: the database checks them, and so do the editor and the import.
MAX_ITEMS_BOUNDS = (1, 200)
MIN_RELEVANCE_BOUNDS = (0, 100)


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "pending confirmation"
    ACTIVE = "active", "active"
    UNSUBSCRIBED = "unsubscribed", "unsubscribed"
    SUPPRESSED = "suppressed", "suppressed (bounce or complaint)"


class Frequency(models.TextChoices):
    DAILY = "daily", "daily"
    WEEKLY = "weekly", "weekly"


class Subscriber(models.Model):
    Status = SubscriberStatus
    Frequency = Frequency

    email = models.EmailField(max_length=254)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    language = models.CharField(
        max_length=16, default="en", help_text="BCP 47 code of the reader's language, e.g. zh, en."
    )
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA time zone.")
    delivery_time = models.TimeField(default=dt.time(8, 0), help_text="Local time of delivery.")
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    created_at = models.DateTimeField(default=now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    feed_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="Secret part of the private Atom feed's address; replaced to revoke it.",
    )
    signin_used_at = models.DateTimeField(
        null=True, blank=True, help_text="Last magic-link sign-in: links sent before it are spent."
    )

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="subscriber_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in SubscriberStatus]),
                name="subscriber_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__in=[f.value for f in Frequency]),
                name="subscriber_frequency_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class InterestProfile(models.Model):
    """What a subscriber wants to read; every list is a JSON list of strings."""

    subscriber = models.OneToOneField(Subscriber, on_delete=models.CASCADE, related_name="profile")
    topics = models.ManyToManyField("digests.Topic", blank=True, related_name="profiles")
    keywords = models.JSONField(default=list, blank=True)
    exclude_keywords = models.JSONField(default=list, blank=True)
    authors = models.JSONField(default=list, blank=True, help_text="Followed authors.")
    institutions = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True, help_text="arXiv categories.")
    interests = models.TextField(blank=True, help_text="Free-text description of interests.")
    seed_papers = models.JSONField(default=list, blank=True, help_text="arXiv ids.")
    dropped_categories = models.JSONField(
        default=list,
        blank=True,
        help_text="Inferred categories the reader said they do not read: never inferred again.",
    )
    include_updates = models.BooleanField(
        default=False, help_text="Also show new versions of papers, ranked as new papers."
    )
    serendipity = models.BooleanField(
        default=False, help_text="Add one strong paper from outside the profile, labelled as such."
    )
    max_items = models.PositiveSmallIntegerField(default=20)
    min_relevance = models.PositiveSmallIntegerField(default=30)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    max_items__gte=MAX_ITEMS_BOUNDS[0], max_items__lte=MAX_ITEMS_BOUNDS[1]
                ),
                name="profile_max_items_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    min_relevance__gte=MIN_RELEVANCE_BOUNDS[0],
                    min_relevance__lte=MIN_RELEVANCE_BOUNDS[1],
                ),
                name="profile_min_relevance_range",
            ),
        ]

    def __str__(self) -> str:
        return f"profile of {self.subscriber}"


class TrackingEvent(models.Model):
    """An ESP tracking event already handled: the same event posted twice changes nothing."""

    key = models.CharField(
        max_length=255, unique=True, help_text="ESP event id, or a digest of it."
    )
    event_type = models.CharField(max_length=32)
    esp_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    recipient = models.EmailField(blank=True)
    received_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.recipient}"


class HeldSignup(models.Model):
    """A sign-up for an address that already has a subscriber (pending or unsubscribed), held
    until its confirmation link is used: an anonymous form never overwrites someone's profile."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="held")
    subscriber_fields = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    profile_fields = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    topic_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=now, db_index=True)

    def __str__(self) -> str:
        return f"held sign-up for {self.subscriber}"


class LibraryEntry(models.Model):
    """One paper of the reader's library (an imported file or their Zotero): a seed of their
    profile, by its arXiv paper when it has one, else by its own title and abstract."""

    class State(models.TextChoices):
        ARXIV = "arxiv", "arXiv paper"
        LOOKUP = "lookup", "DOI to look up on arXiv"
        TEXT = "text", "kept as text"

    class Source(models.TextChoices):
        FILE = "file", "imported file"
        ZOTERO = "zotero", "Zotero"

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="library_entries"
    )
    key = models.CharField(max_length=300, help_text="arxiv:<id>, doi:<doi> or title:<words>.")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.FILE)
    state = models.CharField(max_length=8, choices=State.choices)
    arxiv_id = models.CharField(max_length=40, blank=True, db_index=True)
    doi = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=500, blank=True)
    abstract = models.TextField(blank=True)
    added_at = models.DateTimeField(default=now, help_text="When the reader added it.")
    dropped = models.BooleanField(
        default=False, help_text="The reader dropped it: kept so a re-import does not revive it."
    )
    zotero_key = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "key"], name="library_entry_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class ZoteroLink(models.Model):
    """The reader's Zotero library, re-read once a day; the API key is stored encrypted."""

    subscriber = models.OneToOneField(Subscriber, on_delete=models.CASCADE, related_name="zotero")
    user_id = models.CharField(max_length=20)
    api_key_encrypted = models.TextField(help_text="Fernet token; never shown or logged.")
    collections_include = models.JSONField(default=list, blank=True)
    collections_ignore = models.JSONField(default=list, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, help_text="Why the last sync failed.")

    def __str__(self) -> str:
        return f"Zotero {self.user_id} of {self.subscriber}"
