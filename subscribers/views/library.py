"""The reader's library from the profile editor: upload an export, drop entries, connect or
remove Zotero. Thin views: `subscribers.forms` checks, `subscribers.library` stores, the papers'
side looks DOIs up on arXiv in a worker."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError as BrokerError

from subscribers.forms import (
    EmailChangeForm,
    LibraryDropForm,
    LibraryUploadForm,
    ProfileForm,
    ZoteroConnectForm,
    profile_initial,
)
from subscribers.library import MAX_BYTES, LibraryReport, library_drop, library_import
from subscribers.library.zotero import (
    ZoteroError,
    ZoteroRefused,
    zotero_connect,
    zotero_disconnect,
)
from subscribers.papers_side import papers_side
from subscribers.ratelimit import Limit, limit_hit
from subscribers.session import SubscriberRequest, subscriber_required
from subscribers.views.profile import _editor, _profile

__all__ = ["library_entry_drop", "library_upload", "zotero_link", "zotero_unlink"]

log = logging.getLogger(__name__)

IMPORT_LIMIT = Limit("library-import", count=30, seconds=60 * 60)
ZOTERO_LIMIT = Limit("zotero-connect", count=10, seconds=60 * 60)
REJECTED_SHOWN = 500  # rejected entries listed on the report page; the rest are counted


class _SizeCap(FileUploadHandler):
    """Counts each uploaded file's bytes and passes on no more than MAX_BYTES + 1 of them, so
    an oversized file is never stored whole; its true size is kept for the error message."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.sizes: dict[str, int] = {}

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.sizes[self.field_name] = start + len(raw_data)
        return raw_data if start <= MAX_BYTES else None

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) holds the file


def _editor_with(
    request: SubscriberRequest,
    *,
    upload_form: LibraryUploadForm | None = None,
    zotero_form: ZoteroConnectForm | None = None,
    status: int = 400,
) -> HttpResponse:
    """The editor again, with a library form's errors (and never the Zotero key)."""
    profile = _profile(request.subscriber)
    return _editor(
        request,
        profile=profile,
        form=ProfileForm(initial=profile_initial(profile), followed=profile.topics.all()),
        email_form=EmailChangeForm(),
        library={"upload_form": upload_form, "zotero_form": zotero_form},
        status=status,
    )


def _lookup_queued(subscriber_id: int) -> bool:
    """Queue the DOI lookup (and the fetch of the library's papers) for a worker."""
    try:
        papers_side().library_lookup_queue([subscriber_id])
    except BrokerError as error:  # the entries are stored; importing again queues it again
        log.warning("library lookup not queued, the broker is unavailable: %s", error)
        return False
    return True


def _report(request: SubscriberRequest, report: LibraryReport, *, source: str) -> HttpResponse:
    context: dict[str, Any] = {
        "report": report,
        "source": source,
        "rejected": report.rejected[:REJECTED_SHOWN],
        "rejected_more": max(0, len(report.rejected) - REJECTED_SHOWN),
        "queued": _lookup_queued(request.subscriber.pk),
        "library_url": reverse("subscribers:profile") + "#library",
    }
    return render(request, "subscribers/profile_library_report.html", context)


@csrf_exempt  # the size cap must be in place before the body is read; CSRF is checked below
@never_cache
@subscriber_required
@require_POST
def library_upload(request: SubscriberRequest) -> HttpResponse:
    cap = _SizeCap(request)
    request.upload_handlers = [cap, *request.upload_handlers]
    return _library_upload(request, cap)


@csrf_protect
def _library_upload(request: SubscriberRequest, cap: _SizeCap) -> HttpResponse:
    for name, upload in request.FILES.items():
        if isinstance(upload, UploadedFile):
            upload.size = cap.sizes.get(name, upload.size)  # its true size, if cut short
    form = LibraryUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _editor_with(request, upload_form=form)
    if limit_hit(IMPORT_LIMIT, str(request.subscriber.pk)):
        form.add_error("file", _("Too many imports this hour; try again later."))
        return _editor_with(request, upload_form=form, status=429)
    report = library_import(subscriber=request.subscriber, read=form.cleaned_data["library"])
    return _report(request, report, source="file")


@never_cache
@subscriber_required
@require_POST
def library_entry_drop(request: SubscriberRequest) -> HttpResponse:
    form = LibraryDropForm(request.POST)
    dropped = form.is_valid() and library_drop(
        subscriber=request.subscriber, entry_ids=[form.cleaned_data["entry"]]
    )
    if dropped:
        messages.success(request, _("The entry no longer shapes your digest."))
    else:
        messages.error(request, _("That entry is not in your library."))
    return redirect(reverse("subscribers:profile") + "#library")


@never_cache
@subscriber_required
@require_POST
def zotero_link(request: SubscriberRequest) -> HttpResponse:
    form = ZoteroConnectForm(request.POST)
    if not form.is_valid():
        return _editor_with(request, zotero_form=form)
    if limit_hit(ZOTERO_LIMIT, str(request.subscriber.pk)):
        form.add_error(None, _("Too many tries this hour; try again later."))
        return _editor_with(request, zotero_form=form, status=429)
    try:
        report = zotero_connect(
            subscriber=request.subscriber,
            user_id=form.cleaned_data["user_id"],
            api_key=form.cleaned_data["api_key"],
            include=form.cleaned_data["include"],
            ignore=form.cleaned_data["ignore"],
        )
    except ZoteroRefused as error:
        form.add_error("api_key", str(error))
        return _editor_with(request, zotero_form=form)
    except ZoteroError:
        form.add_error(None, _("Zotero cannot be reached now; nothing was kept. Try again later."))
        return _editor_with(request, zotero_form=form, status=503)
    return _report(request, report, source="zotero")


@never_cache
@subscriber_required
@require_POST
def zotero_unlink(request: SubscriberRequest) -> HttpResponse:
    keep = request.POST.get("entries") != "remove"
    zotero_disconnect(request.subscriber, keep_entries=keep)
    if keep:
        messages.success(request, _("Zotero is disconnected and its key forgotten."))
    else:
        messages.success(
            request, _("Zotero is disconnected, its key forgotten and its entries removed.")
        )
    return redirect(reverse("subscribers:profile") + "#library")
