"""Fixtures of the subscriber tests."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


class CommittingClient:
    """A test client whose POSTs run the on-commit callbacks they queue (the mail tasks) when
    they return, as a real commit would: the test's own transaction never commits."""

    def __init__(self, client: Client, capture: Any) -> None:
        self._client = client
        self._capture = capture

    def post(self, *args: Any, **kwargs: Any) -> Any:
        with self._capture(execute=True):
            return self._client.post(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def committing_client(client: Client, django_capture_on_commit_callbacks: Any) -> CommittingClient:
    return CommittingClient(client, django_capture_on_commit_callbacks)
