"""Celery tasks of the subscriber side: thin wrappers around one step each.

Mail to a reader is sent here, never in a request: an ESP that is down costs the page nothing,
and a transient error (429, 5xx, no connection) is tried again with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task

from subscribers.email_change import email_change_mail_send
from subscribers.mail import MAIL_ERRORS, MAIL_RETRIES, mail_error_transient, mail_retry_delay
from subscribers.purge import unconfirmed_purge
from subscribers.signin import signin_link_send
from subscribers.signup import signup_mail_send, signup_payload_record

__all__ = [
    "email_change_mail_deliver",
    "signin_link_deliver",
    "signup_mail_deliver",
    "signup_record",
    "unconfirmed_purge_daily",
]

logger = logging.getLogger(__name__)


def _with_retries(task: Task, send: Callable[[], object]) -> None:
    """Run `send`; on a transient mail error queue the task again, later; a permanent one is
    logged (no address: the task's name and id say which) and dropped."""
    try:
        send()
    except MAIL_ERRORS as error:
        if not mail_error_transient(error):
            logger.error("%s: mail refused for good: %s", task.name, type(error).__name__)
            return
        if task.request.retries >= MAIL_RETRIES:
            logger.error("%s: ESP still failing, mail given up", task.name)
            raise
        logger.warning("%s: transient ESP error, tried again later", task.name)
        raise task.retry(exc=error, countdown=mail_retry_delay(task.request.retries)) from None


@shared_task(bind=True, max_retries=MAIL_RETRIES)
def signin_link_deliver(self: Task, email: str) -> None:
    """Mail a sign-in link if the address has a subscriber: queued for every address asked
    for, so the page answers alike for unknown, suppressed and active ones."""
    _with_retries(self, lambda: signin_link_send(email=email))


@shared_task
def signup_record(email: str, payload: dict[str, Any]) -> None:
    """Record a sign-up, off the request (which so does the same work for every address), then
    queue its mail: a mail retried later never records the sign-up twice."""
    record = signup_payload_record(email=email, payload=payload)
    # Committed already: subscriber_signup's transaction is the outermost one in a worker.
    signup_mail_deliver.delay(record.subscriber_id, record.held_id)


@shared_task(bind=True, max_retries=MAIL_RETRIES)
def signup_mail_deliver(self: Task, subscriber_id: int, held_id: int | None = None) -> None:
    """Mail what a sign-up calls for (confirmation, manage link, or nothing)."""
    _with_retries(self, lambda: signup_mail_send(subscriber_id=subscriber_id, held_id=held_id))


@shared_task(bind=True, max_retries=MAIL_RETRIES)
def email_change_mail_deliver(self: Task, subscriber_id: int, new_email: str) -> None:
    """Mail the link that confirms a new address."""
    _with_retries(
        self, lambda: email_change_mail_send(subscriber_id=subscriber_id, new_email=new_email)
    )


@shared_task
def unconfirmed_purge_daily() -> None:
    """Delete the sign-ups never confirmed (UNCONFIRMED_PURGE_DAYS) and stale held ones."""
    unconfirmed_purge()
