"""Topic curation: a form over the JSON fields, the day's preview, stale readings, import/export.

The names and descriptions stay JSON objects (language → text) in the database; the form shows
one input per site language and keeps any other language the JSON already holds.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from digests.biorxiv.subjects import category_known
from digests.catalogue.changes import topic_change_apply
from digests.catalogue.topics import CatalogueError, topics_export, topics_import
from digests.models import Topic
from digests.readings import latest_issue_date
from digests.tasks import day_enrich_latest
from staff.topic_preview import topic_preview

__all__ = ["TopicAdmin", "TopicForm"]

LANGUAGES = {"en": "English", "zh": "Chinese"}  # the keys the shipped catalogue uses


def _split(text: str) -> list[str]:
    """The non-empty lines, stripped."""
    return [item.strip() for item in text.splitlines() if item.strip()]


def _description_field(language: str) -> forms.CharField:
    return forms.CharField(
        label=f"description ({language})",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The LLM ties papers to the topic from its name and description.",
    )


class TopicForm(ModelForm):
    # One input per key of LANGUAGES; the English name is the one every topic must have.
    name_en = forms.CharField(label="name (English)")
    name_zh = forms.CharField(label="name (Chinese)", required=False)
    description_en = _description_field("English")
    description_zh = _description_field("Chinese")
    keywords_text = forms.CharField(
        label="keywords",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text="One phrase per line: they drive lexical matching (whole words, any case).",
    )
    categories_text = forms.CharField(
        label="arXiv categories",
        required=False,
        help_text="Codes from arXiv's taxonomy, separated by spaces or commas, e.g. cs.CL cs.AI.",
    )

    class Meta:
        model = Topic
        fields = ["slug", "parent", "featured", "position"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topic = self.instance
        for code in LANGUAGES:
            self.fields[f"name_{code}"].initial = topic.names.get(code, "")
            self.fields[f"description_{code}"].initial = topic.descriptions.get(code, "")
        self.fields["keywords_text"].initial = "\n".join(topic.keywords)
        self.fields["categories_text"].initial = " ".join(topic.categories)

    def clean_categories_text(self) -> list[str]:
        codes = list(dict.fromkeys(self.cleaned_data["categories_text"].replace(",", " ").split()))
        unknown = [code for code in codes if not category_known(code)]
        if unknown:
            raise forms.ValidationError(
                "Not an arXiv category: %(codes)s (see arxiv.org/category_taxonomy).",
                code="unknown_category",
                params={"codes": ", ".join(unknown)},
            )
        return codes

    def clean_keywords_text(self) -> list[str]:
        return list(dict.fromkeys(_split(self.cleaned_data["keywords_text"])))

    def clean_parent(self) -> Topic | None:
        parent = self.cleaned_data.get("parent")
        if parent is None:
            return None
        ancestor, seen = parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.instance.pk and ancestor.pk == self.instance.pk:
                raise forms.ValidationError(
                    "%(parent)s cannot be the parent: it is this topic or one of its children, "
                    "which would make a cycle.",
                    code="cycle",
                    params={"parent": parent.slug},
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        return parent

    def _save_json(self) -> None:
        topic = self.instance
        names, descriptions = dict(topic.names), dict(topic.descriptions)
        for code in LANGUAGES:
            for target, field in ((names, f"name_{code}"), (descriptions, f"description_{code}")):
                text = self.cleaned_data.get(field, "").strip()
                if text:
                    target[code] = text
                else:
                    target.pop(code, None)
        topic.names, topic.descriptions = names, descriptions
        topic.keywords = self.cleaned_data["keywords_text"]
        topic.categories = self.cleaned_data["categories_text"]

    def _post_clean(self) -> None:
        # Put the JSON fields on the instance before the model's own validation runs.
        if not self.errors:
            self._save_json()
        super()._post_clean()  # type: ignore[misc]  # Django's hook, absent from the stubs


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    form = TopicForm
    change_form_template = "admin/digests/topic/change_form.html"
    change_list_template = "admin/digests/topic/change_list.html"
    list_display = [
        "slug",
        "english_name",
        "languages",
        "parent",
        "children_count",
        "follower_count",
        "featured",
        "position",
    ]
    list_editable = ["featured", "position"]
    list_filter = ["featured", ("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["slug", "names"]
    autocomplete_fields = ["parent"]
    fieldsets = [
        (None, {"fields": ["slug", "name_en", "name_zh", "parent"]}),
        ("Descriptions", {"fields": ["description_en", "description_zh"]}),
        ("Matching", {"fields": ["keywords_text", "categories_text"]}),
        ("Catalogue", {"fields": ["featured", "position"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        # Two to-many counts over one join each: distinct keeps them from multiplying.
        return (
            super()
            .get_queryset(request)
            .annotate(
                children_count=Count("children", distinct=True),
                follower_count=Count("profiles", distinct=True),
            )
        )

    @admin.display(description="name (en)")
    def english_name(self, topic: Topic) -> str:
        return topic.name("en")

    @admin.display(description="languages")
    def languages(self, topic: Topic) -> str:
        return " ".join(sorted(topic.names))

    @admin.display(description="children", ordering="children_count")
    def children_count(self, topic: Topic) -> int:
        return topic.children_count  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="followers", ordering="follower_count")
    def follower_count(self, topic: Topic) -> int:
        return topic.follower_count  # type: ignore[attr-defined]  # annotated by get_queryset

    def save_model(self, request: HttpRequest, obj: Topic, form: ModelForm, change: bool) -> None:
        before = Topic.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        stale = topic_change_apply(before=before, after=obj)
        if stale.llm_discarded and stale.day == latest_issue_date():
            transaction.on_commit(day_enrich_latest.delay)
        if stale.message():
            messages.info(request, stale.message())

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        topic = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if topic is not None:
            context["topic_preview"] = topic_preview(topic=topic)
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="digests_topic_import"),
            path("export/", view(self.export_view), name="digests_topic_export"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload the catalogue as `import_topics` reads it; report as the command does."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import topics",
            "format_help": "A JSON array of topics, parents before children: the file "
            "export_topics writes. Topics missing from the file are left alone.",
            "accept": ".json,application/json",
        }
        upload = request.FILES.get("file") if request.method == "POST" else None
        if upload is not None:
            context["result"] = _topics_upload(upload.read())
        elif request.method == "POST":
            context["result"] = {"failure": "Choose a file to import."}
        return TemplateResponse(request, "admin/import_export.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        body = json.dumps(topics_export(), indent=2, ensure_ascii=False) + "\n"
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="topics.json"'
        return response


def _topics_upload(raw: bytes) -> dict[str, Any]:
    """Read and import an uploaded catalogue; the same messages as `import_topics`."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        return {"failure": f"not valid UTF-8 (byte {error.start + 1})"}
    except json.JSONDecodeError as error:
        return {"failure": f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"}
    try:
        report = topics_import(data=data)
    except CatalogueError as error:
        return {"failure": str(error)}
    return {
        "summary": f"imported {report.imported} topics ({report.created} created, "
        f"{report.updated} updated), {report.rejected} rejected",
        "errors": [
            f"entry {index} ({slug or 'no slug'}): {reason}"
            for index, slug, reason in report.errors
        ],
    }
