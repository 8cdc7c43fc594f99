"""The web process as deployed: gunicorn with our settings, its access log free of tokens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from subscribers.tokens import unsubscribe_token
from tests.conftest import REPO


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_serves_and_its_access_log_holds_no_token(tmp_path: Path):
    # given gunicorn started as the Procfile starts it, on a free port
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "WEB_BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "1"}
    env.update(DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=REPO, env=env, check=True,
    )  # fmt: skip
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:newsletter.gunicorn_conf",
             "newsletter.wsgi"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    # tampered: answered before the DB
    token = unsubscribe_token(subscriber_id=77, email="ada@example.org")[:-2] + "zz"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                # the first answer waits for the worker to load the app: up to the deadline
                response = requests.get(f"http://127.0.0.1:{port}/u/{token}/", timeout=(5, 30))
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=20)

    # then the page answered, the access log has the request, and not the token
    assert response.status_code == 400
    written = log.read_text()
    assert '"GET /u/[token]/ HTTP/1.1" 400' in written
    assert token not in written
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
