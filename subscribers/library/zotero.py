"""The reader's Zotero library, read through Zotero's web API with `pyzotero`.

The reader gives their Zotero user id, an API key with read access, and optionally collections
to include (only those) or to ignore, by name or key. `zotero_sync` reads the library's
top-level items, keeps those the collections allow, and stores them as library entries like an
imported file; an item deleted in Zotero leaves the library (unless the reader dropped it here,
which is remembered). The key is stored sealed (`secret`) and never logged; a key Zotero refuses
is reported in words the reader can act on, on the link itself.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx2
from django.conf import settings
from django.utils import timezone
from pyzotero import zotero
from pyzotero import zotero_errors as ze

from subscribers.library.entries import Entry, date_parse, entry_make
from subscribers.library.formats import LibraryFile
from subscribers.library.secret import SecretUnreadable, secret_open, secret_seal
from subscribers.library.store import LibraryReport, library_import
from subscribers.models import LibraryEntry, Subscriber, ZoteroLink

__all__ = [
    "ZoteroError",
    "ZoteroRefused",
    "zotero_connect",
    "zotero_disconnect",
    "zotero_entries",
    "zotero_sync",
    "zotero_sync_all",
]

log = logging.getLogger(__name__)

ZOTERO_API_URL = "https://api.zotero.org"
SKIPPED_TYPES = {"attachment", "note", "annotation"}


class ZoteroError(Exception):
    """Zotero could not be read this time (down, unreachable): tried again tomorrow."""


class ZoteroRefused(ZoteroError):
    """Zotero refused the user id or key: the reader must fix them."""


def _client(user_id: str, api_key: str) -> zotero.Zotero:
    client = zotero.Zotero(user_id, "user", api_key)
    client.endpoint = getattr(settings, "ZOTERO_API_URL", ZOTERO_API_URL).rstrip("/")
    return client


def _names(values: list[str]) -> set[str]:
    return {v.strip().casefold() for v in values if v.strip()}


def _read(client: zotero.Zotero, link: ZoteroLink) -> list[dict[str, Any]]:
    """The library's top-level items that the chosen collections allow."""
    items: list[dict[str, Any]] = client.everything(client.top())
    if not link.collections_include and not link.collections_ignore:
        return items
    collections = client.everything(client.collections())
    keys_of: dict[str, set[str]] = {}
    for collection in collections:
        key = collection["data"]["key"]
        for name in (key.casefold(), str(collection["data"].get("name", "")).casefold()):
            keys_of.setdefault(name, set()).add(key)
    include = {k for n in _names(link.collections_include) for k in keys_of.get(n, {n})}
    ignore = {k for n in _names(link.collections_ignore) for k in keys_of.get(n, {n})}
    return [
        item
        for item in items
        if (not include or include & set(item["data"].get("collections", [])))
        and not ignore & set(item["data"].get("collections", []))
    ]


def _fetch(user_id: str, api_key: str, link: ZoteroLink) -> list[dict[str, Any]]:
    try:
        return _read(_client(user_id, api_key), link)
    except ze.UserNotAuthorisedError:
        raise ZoteroRefused(
            "Zotero refused this API key for this user id: check the user id (Settings → "
            "Security → Applications, “your user ID”) and that the key may read the library."
        ) from None
    except ze.ResourceNotFoundError:
        raise ZoteroRefused("Zotero has no library for this user id.") from None
    except (ze.PyZoteroError, httpx2.HTTPError, KeyError, TypeError) as error:
        raise ZoteroError(f"Zotero could not be read ({type(error).__name__}).") from None


def zotero_entries(items: list[dict[str, Any]]) -> list[Entry]:
    """Zotero items (the web API's JSON) as library entries."""
    entries = []
    for number, item in enumerate(items, start=1):
        data = item.get("data", {})
        if data.get("itemType") in SKIPPED_TYPES:
            continue
        fields = {k: v if isinstance(v, str) else "" for k, v in data.items()}
        entries.append(
            entry_make(
                line=number,
                id_fields=[
                    fields.get(k, "")
                    for k in (
                        "archiveID",
                        "url",
                        "extra",
                        "number",
                        "publicationTitle",
                        "repository",
                    )
                ],
                doi=fields.get("DOI", ""),
                title=fields.get("title", ""),
                abstract=fields.get("abstractNote", ""),
                added_at=date_parse(fields.get("dateAdded", "")),
                zotero_key=fields.get("key", "")[:16],
            )
        )
    return entries


def zotero_connect(
    *,
    subscriber: Subscriber,
    user_id: str,
    api_key: str,
    include: list[str],
    ignore: list[str],
) -> LibraryReport:
    """Check the id and key against Zotero, keep them (the key sealed), and read the library.

    Raises `ZoteroRefused` (nothing kept) when Zotero refuses them, `ZoteroError` when it is down.
    """
    link = ZoteroLink(
        subscriber=subscriber,
        user_id=user_id,
        collections_include=include,
        collections_ignore=ignore,
    )
    items = _fetch(user_id, api_key, link)
    ZoteroLink.objects.update_or_create(
        subscriber=subscriber,
        defaults={
            "user_id": user_id,
            "api_key_encrypted": secret_seal(api_key),
            "collections_include": include,
            "collections_ignore": ignore,
        },
    )
    return _store(subscriber, items)


def _store(subscriber: Subscriber, items: list[dict[str, Any]]) -> LibraryReport:
    entries = zotero_entries(items)
    report = library_import(
        subscriber=subscriber,
        read=LibraryFile("zotero", entries=entries),
        source=LibraryEntry.Source.ZOTERO,
    )
    present = {e.zotero_key for e in entries}
    LibraryEntry.objects.filter(
        subscriber=subscriber, source=LibraryEntry.Source.ZOTERO, dropped=False
    ).exclude(zotero_key__in=present).delete()
    ZoteroLink.objects.filter(subscriber=subscriber).update(synced_at=timezone.now(), error="")
    return report


def zotero_sync(link: ZoteroLink) -> LibraryReport:
    """Read the reader's Zotero library again; a refused or unreadable key is recorded on the
    link for the editor to show, and raised."""
    try:
        items = _fetch(link.user_id, secret_open(link.api_key_encrypted), link)
    except (ZoteroRefused, SecretUnreadable) as error:
        ZoteroLink.objects.filter(pk=link.pk).update(error=str(error)[:300])
        raise ZoteroRefused(str(error)) from None
    return _store(link.subscriber, items)


def zotero_sync_all() -> list[int]:
    """Every active reader's Zotero library read again (the daily beat task); the ids of the
    readers whose library was read. One reader's failure is logged and costs no one else."""
    synced = []
    links = ZoteroLink.objects.filter(subscriber__status=Subscriber.Status.ACTIVE)
    for link in links.select_related("subscriber"):
        try:
            zotero_sync(link)
        except ZoteroError as error:
            log.warning("zotero sync failed for subscriber %s: %s", link.subscriber_id, error)
            continue
        synced.append(link.subscriber_id)
    return synced


def zotero_disconnect(subscriber: Subscriber, *, keep_entries: bool = True) -> None:
    """Forget the reader's Zotero id and key; their Zotero entries go too unless kept."""
    ZoteroLink.objects.filter(subscriber=subscriber).delete()
    if not keep_entries:
        LibraryEntry.objects.filter(
            subscriber=subscriber, source=LibraryEntry.Source.ZOTERO
        ).delete()
