"""The deployment as shipped: nginx with deploy/nginx.conf in front of gunicorn and the real app.

nginx runs here alone (no Docker image can be pulled on this machine), with the shipped file
changed only in its upstream address and listening port. A client cannot choose the address
the rate limits see, and sockets that send their headers slowly do not take the site down.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from django.db import connection

from subscribers.views.signin import SIGNIN_PER_IP
from tests.conftest import REPO

NGINX_CONF = REPO / "deploy" / "nginx.conf"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_answering(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 40
    while True:
        try:
            requests.get(url, timeout=(2, 30))
            return
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(log.read_text()[-3000:]) from None
            time.sleep(0.2)


def _nginx_config(tmp_path: Path, listen: int, upstream: int) -> Path:
    """The shipped site file with its upstream and port replaced, in a main file of our own."""
    site = NGINX_CONF.read_text()
    assert site.count("server web:8000;") == 1 and site.count("listen 8080;") == 1
    site = site.replace("server web:8000;", f"server 127.0.0.1:{upstream};")
    site = site.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    (tmp_path / "site.conf").write_text(site)
    temp = "".join(
        f"{kind}_temp_path {tmp_path / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'nginx-error.log'} warn;\n"
        "events { worker_connections 512; }\n"
        f"http {{\naccess_log off;\n{temp}include {tmp_path / 'site.conf'};\n}}\n"
    )
    return main


@pytest.fixture
def proxied_site(tmp_path: Path, transactional_db) -> Iterator[dict[str, str]]:
    """gunicorn (1 worker, 2 threads) serving the app on the test database, nginx in front."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is missing: `bash .ci/ensure-services` installs Debian's nginx")
    web_port, proxy_port = _free_port(), _free_port()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
        f"{db['NAME']}",
        "CELERY_BROKER_URL": "filesystem://",
        "CACHE_URL": "",
        "WEB_BIND": f"127.0.0.1:{web_port}",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
        "TRUSTED_PROXY_COUNT": "1",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=REPO, env=env, check=True,
    )  # fmt: skip
    log = tmp_path / "servers.log"
    with log.open("w") as out:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:newsletter.gunicorn_conf",
             "newsletter.wsgi"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        config = _nginx_config(tmp_path, proxy_port, web_port)
        proxy = subprocess.Popen(
            [nginx, "-p", str(tmp_path), "-c", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_answering(f"http://127.0.0.1:{web_port}/signin/", web, log)
        _wait_until_answering(f"http://127.0.0.1:{proxy_port}/signin/", proxy, log)
        yield {"proxy": f"http://127.0.0.1:{proxy_port}", "web": f"http://127.0.0.1:{web_port}"}
    finally:
        for process in (proxy, web):
            process.terminate()
            process.wait(timeout=20)


def _signin_form(session: requests.Session, base: str) -> str:
    page = session.get(f"{base}/signin/", timeout=10)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def test_a_spoofed_forwarded_for_does_not_escape_the_rate_limit(proxied_site):
    # given one client, through the proxy, naming a new address in X-Forwarded-For each time
    session = requests.Session()
    token = _signin_form(session, proxied_site["proxy"])
    answers = [
        session.post(
            f"{proxied_site['proxy']}/signin/",
            data={"csrfmiddlewaretoken": token, "email": f"reader{n}@example.org"},
            headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"},
            timeout=10,
        ).status_code
        for n in range(SIGNIN_PER_IP.count + 1)
    ]

    # then the proxy's own X-Forwarded-For counted: one client, refused past the limit
    assert answers == [200] * SIGNIN_PER_IP.count + [429]


def test_slow_header_sockets_do_not_take_the_site_down(proxied_site):
    # given forty clients that send half a request's headers and then nothing
    def slow_sockets(base: str) -> list[socket.socket]:
        host, port = base.removeprefix("http://").split(":")
        held = []
        for _ in range(40):
            sock = socket.create_connection((host, int(port)))
            sock.sendall(b"GET /signin/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
            held.append(sock)
        return held

    def answers_in_time(base: str) -> bool:
        try:
            return requests.get(f"{base}/signin/", timeout=3).status_code == 200
        except requests.Timeout:
            return False

    through_proxy = slow_sockets(proxied_site["proxy"])
    try:
        # then a reader through the proxy is served at once
        assert answers_in_time(proxied_site["proxy"])
    finally:
        for sock in through_proxy:
            sock.close()
    # (while the same sockets sent straight to gunicorn, as the old compose file published
    # it, leave a reader waiting: what the proxy is for)
    straight = slow_sockets(proxied_site["web"])
    try:
        assert not answers_in_time(proxied_site["web"])
    finally:
        for sock in straight:
            sock.close()


def test_compose_publishes_only_the_proxy_and_trusts_only_it():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy_ip = services["proxy"]["networks"]["default"]["ipv4_address"]
    web_env = services["web"]["environment"]
    assert web_env["FORWARDED_ALLOW_IPS"] == proxy_ip
    assert web_env["TRUSTED_PROXY_COUNT"] == "1"
    assert services["proxy"]["ports"] == ["${WEB_PORT:-8000}:8080"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["proxy"]["volumes"]
    site = NGINX_CONF.read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site  # replaced, not appended
    assert "$proxy_add_x_forwarded_for" not in site
    assert web_env["WEB_BIND"].endswith(":8000") and "server web:8000;" in site
