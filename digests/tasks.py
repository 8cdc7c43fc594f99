"""Celery tasks: thin wrappers that load by id and call one step."""

from __future__ import annotations

from celery import shared_task

from digests.delivery import delivery_send
from digests.models import Digest
from digests.pipeline import daily_run


@shared_task
def pipeline_run_daily() -> str:
    ingest, send = daily_run()
    return f"{ingest.summary()}; {send.summary()}"


@shared_task
def digest_deliver(digest_id: int) -> bool:
    digest = Digest.objects.select_related("subscriber").get(pk=digest_id)
    return delivery_send(digest=digest) is not None
