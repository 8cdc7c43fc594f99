"""Celery tasks of the subscriber side: thin wrappers around one step each."""

from __future__ import annotations

from celery import shared_task

from subscribers.signin import signin_link_send

__all__ = ["signin_link_deliver"]


@shared_task
def signin_link_deliver(email: str) -> None:
    """Mail a sign-in link, outside the request: the page answers as fast for an unknown
    address as for a known one, and an ESP error never shows on it."""
    signin_link_send(email=email)
