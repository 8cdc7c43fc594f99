"""The sign-up form and the profile editor's form: one set of fields, checked once.

Lists (keywords, authors, categories, seed papers…) are typed one per line or comma-separated;
they come out of `cleaned_data` as lists of strings, ready for the profile's JSON fields.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from subscribers.addresses import email_normalise
from subscribers.library import MAX_BYTES, LibraryFileError, library_file_read
from subscribers.models import Frequency, InterestProfile
from subscribers.papers_side import papers_side
from subscribers.profile_fields import (
    INTERESTS_MAX_LENGTH,
    LANGUAGES,
    LIST_ITEM_MAX,
    LIST_MAX,
    MAX_ITEMS_BOUNDS,
    MIN_RELEVANCE_BOUNDS,
    PROFILE_FIELDS,
    SUBSCRIBER_FIELDS,
    categories_unknown,
    list_too_long,
    list_too_many,
    time_zone_choices,
    time_zone_known,
)
from subscribers.seed_ids import arxiv_id_normalise, seed_id_normalise

__all__ = [
    "LANGUAGES",
    "PROFILE_FIELDS",
    "SIGNUP_INITIAL",
    "SUBSCRIBER_FIELDS",
    "EmailChangeForm",
    "InferredCategoryForm",
    "LibraryDropForm",
    "LibraryUploadForm",
    "NormalisedEmailField",
    "ProfileForm",
    "SignupForm",
    "ZoteroConnectForm",
    "arxiv_id_normalise",
    "profile_initial",
    "seed_id_normalise",
    "split_list",
]


def split_list(text: str) -> list[str]:
    """Entries one per line or comma-separated, trimmed, empty ones and repeats dropped."""
    entries: list[str] = []
    seen: set[str] = set()
    for part in re.split(r"[\n,;]", text or ""):
        entry = " ".join(part.split())
        if entry and entry.lower() not in seen:
            seen.add(entry.lower())
            entries.append(entry)
    return entries


class ListField(forms.CharField):
    """A textarea holding a list; `clean` returns the list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return split_list(super().to_python(value) or "")

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        if list_too_many(value):
            raise ValidationError(
                _("At most %(count)d entries."), code="too_many", params={"count": LIST_MAX}
            )
        if list_too_long(value):
            raise ValidationError(
                _("Each entry must be at most %(count)d characters."),
                code="too_long",
                params={"count": LIST_ITEM_MAX},
            )


class NormalisedEmailField(forms.EmailField):
    """An address checked by Django, then spelled one way per mailbox (`email_normalise`), so
    uniqueness and rate limits see `"ada"@Example.org` and `ada@example.org` as one."""

    def clean(self, value: Any) -> str:
        cleaned = super().clean(value)
        if not cleaned:
            return cleaned
        normalised = email_normalise(cleaned)
        if len(normalised) > 254:  # an IDN domain grows when written in ASCII
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return normalised


class TopicChoiceField(forms.ModelMultipleChoiceField):
    """Featured topics, named in the page's language."""

    def label_from_instance(self, obj: Any) -> str:
        return obj.name(get_language() or "en")


class ProfileForm(forms.Form):
    """Every field of a reader's profile (the e-mail address has its own form).

    Its fields are those of `profile_fields.SETTINGS`, checked by the rules defined there.
    """

    language = forms.ChoiceField(label=_("Language of the digest"), choices=LANGUAGES)
    topics = TopicChoiceField(
        label=_("Topics"),
        queryset=None,  # the featured topics, set per form: the catalogue is `digests`'
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    keywords = ListField(
        label=_("Keywords"), help_text=_("One per line or comma-separated, e.g. GRPO, RLHF.")
    )
    exclude_keywords = ListField(
        label=_("Keywords to avoid"), help_text=_("Papers mentioning these rank lower.")
    )
    authors = ListField(label=_("Authors you follow"), help_text=_("One name per line."))
    institutions = ListField(label=_("Institutions you follow"))
    categories = ListField(
        label=_("arXiv categories or bioRxiv/medRxiv subjects"),
        help_text=_(
            "arXiv categories or bioRxiv/medRxiv subjects, e.g. cs.CL, stat.ML, "
            "biorxiv:neuroscience, medrxiv:infectious_diseases (spaces as underscores)."
        ),
    )
    interests = forms.CharField(
        label=_("Your interests, in your own words"),
        required=False,
        max_length=INTERESTS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    seed_papers = ListField(
        label=_("Example papers (seed papers)"),
        help_text=_(
            "arXiv ids or links, or bioRxiv/medRxiv DOIs, one per line, "
            "e.g. 2406.12345 or 10.1101/2024.01.02.573921."
        ),
    )
    max_items = forms.IntegerField(
        label=_("At most this many papers per digest"),
        min_value=MAX_ITEMS_BOUNDS[0],
        max_value=MAX_ITEMS_BOUNDS[1],
    )
    min_relevance = forms.IntegerField(
        label=_("Minimum relevance, from 0 to 100"),
        min_value=MIN_RELEVANCE_BOUNDS[0],
        max_value=MIN_RELEVANCE_BOUNDS[1],
    )
    include_updates = forms.BooleanField(
        label=_("Also show new versions of papers"), required=False
    )
    serendipity = forms.BooleanField(
        label=_("Add one strong paper from outside my profile"), required=False
    )
    timezone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    delivery_time = forms.TimeField(
        label=_("Delivery time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    frequency = forms.ChoiceField(
        label=_("Frequency"),
        choices=[(Frequency.DAILY, _("Daily")), (Frequency.WEEKLY, _("Weekly"))],
    )

    def __init__(self, *args: Any, followed: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        followed_ids = [topic.pk for topic in followed]
        # A topic no longer featured stays on offer to those who follow it.
        topics = self.fields["topics"]
        assert isinstance(topics, TopicChoiceField)
        topics.queryset = papers_side().topic_model._default_manager.filter(
            Q(featured=True) | Q(pk__in=followed_ids)
        )
        self.fields["timezone"].widget.attrs["data-timezone"] = ""
        if "authors" in self.fields:
            self.fields["authors"].widget.attrs["data-authors"] = ""

    def clean_categories(self) -> list[str]:
        categories = self.cleaned_data["categories"]
        if unknown := categories_unknown(categories):
            raise ValidationError(
                _("Unknown arXiv categories or bioRxiv/medRxiv subjects: %(codes)s."),
                code="category",
                params={"codes": ", ".join(unknown)},
            )
        return categories

    def clean_seed_papers(self) -> list[str]:
        normalised, errors = [], []
        for value in self.cleaned_data["seed_papers"]:
            try:
                normalised.append(seed_id_normalise(value))
            except ValidationError as error:
                errors.append(error)
        if errors:
            raise ValidationError(errors)
        return list(dict.fromkeys(normalised))

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"]
        if not time_zone_known(name):
            raise ValidationError(_("Unknown time zone."), code="timezone")
        return name

    def subscriber_fields(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in SUBSCRIBER_FIELDS if k in self.cleaned_data}

    def profile_fields(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in PROFILE_FIELDS if k in self.cleaned_data}

    def topic_list(self) -> list[Any]:
        return list(self.cleaned_data.get("topics") or [])


def profile_initial(profile: InterestProfile) -> dict[str, Any]:
    """The editor's starting values, from the stored profile and its subscriber."""
    subscriber = profile.subscriber
    initial: dict[str, Any] = {k: getattr(subscriber, k) for k in SUBSCRIBER_FIELDS}
    initial.update({k: getattr(profile, k) for k in PROFILE_FIELDS})
    initial["topics"] = list(profile.topics.all())
    return initial


SIGNUP_INITIAL = {"language": "en", "timezone": "UTC", "delivery_time": dt.time(8, 0)}


class SignupForm(ProfileForm):
    """What a newcomer gives us; the finer settings wait for the profile editor."""

    # Declared first so it is the first field of the page.
    email = NormalisedEmailField(label=_("Your e-mail address"), max_length=254)
    # A honeypot: hidden by CSS, filled only by bots that fill every field.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    exclude_keywords = None  # type: ignore[assignment]  # Django's way to drop a field
    institutions = None  # type: ignore[assignment]  # Django's way to drop a field
    seed_papers = None  # type: ignore[assignment]  # Django's way to drop a field
    max_items = None  # type: ignore[assignment]  # Django's way to drop a field
    min_relevance = None  # type: ignore[assignment]  # Django's way to drop a field
    include_updates = None  # type: ignore[assignment]  # Django's way to drop a field
    serendipity = None  # type: ignore[assignment]  # Django's way to drop a field

    field_order = [
        "email",
        "language",
        "topics",
        "keywords",
        "authors",
        "categories",
        "interests",
        "timezone",
        "delivery_time",
        "frequency",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", SIGNUP_INITIAL)
        super().__init__(*args, **kwargs)
        self.fields["timezone"].widget.attrs["data-detect"] = ""
        self.fields["timezone"].help_text = _("Detected from your browser; change it if needed.")


class EmailChangeForm(forms.Form):
    email = NormalisedEmailField(label=_("New e-mail address"), max_length=254)


class InferredCategoryForm(forms.Form):
    """A category the editor says the reader seems to read: add it to theirs, or drop it."""

    category = forms.CharField(max_length=LIST_ITEM_MAX)
    action = forms.ChoiceField(choices=[("confirm", "confirm"), ("drop", "drop")])

    def clean_category(self) -> str:
        code = self.cleaned_data["category"].strip()
        if categories_unknown([code]):
            raise ValidationError(
                _("Unknown arXiv categories: %(codes)s."), code="category", params={"codes": code}
            )
        return code


class LibraryUploadForm(forms.Form):
    """A reference manager's export; `cleaned_data["library"]` is the file as read."""

    file = forms.FileField(
        label=_("Your library's export"),
        help_text=_(
            "BibTeX, RIS, CSL-JSON, or one arXiv id, arXiv URL or DOI a line; up to 16 MB."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:  # refused before it is read into memory
            raise ValidationError(
                _(
                    "The file is %(size).1f MB; the limit is %(limit)d MB. Export without "
                    "attachments and notes, or one collection at a time."
                ),
                code="too_large",
                params={"size": upload.size / 1024 / 1024, "limit": MAX_BYTES // 1024 // 1024},
            )
        try:
            self.cleaned_data["library"] = library_file_read(upload.read())
        except LibraryFileError as error:
            raise ValidationError(str(error), code="library_file") from None
        return upload


class LibraryDropForm(forms.Form):
    entry = forms.IntegerField(min_value=1)


class ZoteroConnectForm(forms.Form):
    """A Zotero user id and API key (the key is never rendered back), and collections."""

    user_id = forms.RegexField(
        regex=r"^\d{1,20}$",
        label=_("Zotero user id"),
        help_text=_("Zotero → Settings → Security: “Your user ID for use in API calls”."),
        error_messages={"invalid": _("A Zotero user id is a number.")},
    )
    api_key = forms.RegexField(
        regex=r"^[A-Za-z0-9]{8,64}$",
        label=_("Zotero API key"),
        help_text=_("A key with read access to your library (Zotero → Settings → Security)."),
        error_messages={"invalid": _("A Zotero API key is letters and digits only.")},
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    include = ListField(
        label=_("Only these collections"), help_text=_("Names or keys; empty: the whole library.")
    )
    ignore = ListField(label=_("Ignore these collections"))
