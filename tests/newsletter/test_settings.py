"""Settings come from the environment; a malformed value stops start-up with a clear message."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from newsletter.config import Config
from tests.conftest import REPO

CONTRACT_VARIABLES = [
    "DATABASE_URL", "CELERY_BROKER_URL", "SITE_URL", "DEFAULT_FROM_EMAIL", "EMAIL_BACKEND",
    "EMAIL_FILE_PATH", "ARXIV_RSS_URL", "ARXIV_API_URL", "ARXIV_HTML_URL", "ARXIV_REQUEST_DELAY",
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_MODEL", "LLM_EMBEDDING_MODEL",
    "LLM_DAILY_TOKEN_BUDGET", "LLM_CONCURRENCY", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS",
    "TIME_ZONE", "CACHE_URL", "ARXIV_RETRY_UNTIL", "LLM_STRUCTURED_OUTPUT", "LLM_TIMEOUT",
    "LLM_PRICE_INPUT", "LLM_PRICE_OUTPUT", "DATABASE_CONNECT_TIMEOUT", "DATABASE_STATEMENT_TIMEOUT",
    "CACHE_SOCKET_TIMEOUT", "BROKER_TIMEOUT", "FORWARDED_ALLOW_IPS",
]  # fmt: skip


@pytest.fixture
def clean_env(monkeypatch, tmp_path: Path):
    for name in [*CONTRACT_VARIABLES, "DATA_DIR"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    return tmp_path


def test_embedded_defaults_need_no_server(clean_env):
    # when nothing is configured
    config = Config(environ.Env(), REPO)

    # then SQLite in the data folder, a serverless broker, .eml files, no LLM
    assert config.database["ENGINE"] == "django.db.backends.sqlite3"
    assert config.database["NAME"] == str(clean_env / "db.sqlite3")
    assert config.broker_url == "filesystem://"
    assert Path(config.broker_transport_options["data_folder_in"]).is_dir()
    control = Path(config.broker_transport_options["control_folder"])
    assert control.is_dir() and control.is_relative_to(clean_env)  # not ./control
    assert config.email_backend == "newsletter.mail.EmlFileBackend"
    assert config.email_file_path == clean_env / "outbox"
    assert config.openai_api_key == ""
    assert config.arxiv_rss_url == "https://rss.arxiv.org/rss/"
    assert config.arxiv_api_url == "https://export.arxiv.org/api/query"
    assert config.arxiv_request_delay == 3.0
    assert config.cache == {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def test_every_contract_variable_is_read(clean_env, monkeypatch):
    # given every variable of the operator's contract set
    values = {
        "DATABASE_URL": "postgres://app@db.internal:5433/digest",
        "CELERY_BROKER_URL": "amqp://guest:guest@mq:5672//",
        "SITE_URL": "https://digest.example.org/",
        "DEFAULT_FROM_EMAIL": "Digest <d@example.org>",
        "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
        "EMAIL_FILE_PATH": str(clean_env / "mail"),
        "ARXIV_RSS_URL": "http://127.0.0.1:9/rss/",
        "ARXIV_API_URL": "http://127.0.0.1:9/api/query",
        "ARXIV_HTML_URL": "http://127.0.0.1:9/html/",
        "ARXIV_REQUEST_DELAY": "0.5",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "LLM_MODEL": "qwen-plus",
        "LLM_EMBEDDING_MODEL": "text-embedding-3-small",
        "LLM_DAILY_TOKEN_BUDGET": "12345",
        "LLM_CONCURRENCY": "8",
        "SECRET_KEY": "k" * 50,
        "DEBUG": "true",
        "ALLOWED_HOSTS": "digest.example.org,localhost",
        "TIME_ZONE": "Asia/Shanghai",
        "CACHE_URL": "redis://127.0.0.1:6379/3",
        "ARXIV_RETRY_UNTIL": "09:30",
        "LLM_STRUCTURED_OUTPUT": "json_object",
        "LLM_TIMEOUT": "12.5",
        "LLM_PRICE_INPUT": "0.27",
        "LLM_PRICE_OUTPUT": "1.1",
        "DATABASE_CONNECT_TIMEOUT": "3",
        "DATABASE_STATEMENT_TIMEOUT": "12.5",
        "CACHE_SOCKET_TIMEOUT": "0.5",
        "BROKER_TIMEOUT": "7",
        "FORWARDED_ALLOW_IPS": "172.28.0.10,10.0.0.2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    # when the configuration is read
    config = Config(environ.Env(), REPO)

    # then each one took effect
    assert config.database["HOST"] == "db.internal"
    assert config.database["PORT"] == 5433
    assert config.database["NAME"] == "digest"
    assert config.database["OPTIONS"] == {
        "connect_timeout": 3,
        "options": "-c statement_timeout=12500",
    }
    assert config.broker_url == "amqp://guest:guest@mq:5672//"
    assert config.broker_transport_options == {}
    assert config.site_url == "https://digest.example.org"
    assert config.default_from_email == "Digest <d@example.org>"
    assert config.email_backend == "anymail.backends.postmark.EmailBackend"
    assert config.email_file_path == clean_env / "mail"
    assert config.arxiv_rss_url == "http://127.0.0.1:9/rss/"
    assert config.arxiv_api_url == "http://127.0.0.1:9/api/query"
    assert config.arxiv_html_url == "http://127.0.0.1:9/html/"
    assert config.arxiv_request_delay == 0.5
    assert (config.openai_api_key, config.openai_base_url) == ("sk-test", "http://127.0.0.1:9/v1")
    assert (config.llm_model, config.llm_embedding_model) == ("qwen-plus", "text-embedding-3-small")
    assert (config.llm_daily_token_budget, config.llm_concurrency) == (12345, 8)
    assert config.secret_key == "k" * 50
    assert config.debug is True
    assert config.allowed_hosts == ["digest.example.org", "localhost"]
    assert config.time_zone == "Asia/Shanghai"
    assert config.cache == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    assert config.broker_timeout == 7
    assert config.forwarded_allow_ips == ("172.28.0.10", "10.0.0.2")
    assert config.arxiv_retry_until == dt.time(9, 30)
    assert (config.llm_structured_output, config.llm_timeout) == ("json_object", 12.5)
    assert (config.llm_price_input, config.llm_price_output) == (0.27, 1.1)


def test_anymail_variables_are_collected(clean_env, monkeypatch):
    monkeypatch.setenv("ANYMAIL_POSTMARK_SERVER_TOKEN", "secret-token")
    config = Config(environ.Env(), REPO)
    assert config.anymail == {"POSTMARK_SERVER_TOKEN": "secret-token"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "not a url", "DATABASE_URL='not a url' is not valid"),
        ("DATABASE_URL", "mysql2://x@h/db", "the scheme must be one of"),
        ("DATABASE_URL", "postgres://u@host", "no database name"),
        ("TIME_ZONE", "Mars/Olympus", "not an IANA time zone"),
        ("CELERY_BROKER_URL", "kafka://h:9092", "CELERY_BROKER_URL='kafka://h:9092' is not valid"),
        ("SITE_URL", "digest.example.org", "expected an absolute http(s) URL"),
        ("ARXIV_REQUEST_DELAY", "soon", "expected a number"),
        ("ARXIV_REQUEST_DELAY", "-1", "must not be negative"),
        ("LLM_CONCURRENCY", "0", "must be at least 1"),
        ("LLM_DAILY_TOKEN_BUDGET", "1.5", "expected a whole number"),
        ("CACHE_URL", "memcached://h:11211", "expected redis://host:port/db"),
        ("ARXIV_RETRY_UNTIL", "late", "expected a time of day like 10:00"),
        ("LLM_STRUCTURED_OUTPUT", "xml", "json_schema or json_object"),
        ("LLM_TIMEOUT", "forever", "expected a number"),
        ("BROKER_TIMEOUT", "0", "must be more than 0 seconds"),
        ("FORWARDED_ALLOW_IPS", "proxy", "a comma list of IP addresses"),
    ],
)
def test_malformed_values_are_named_in_the_error(clean_env, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        Config(environ.Env(), REPO)


def test_start_up_stops_on_a_bad_time_zone(tmp_path: Path):
    # when manage.py starts with an unknown time zone
    env = {**os.environ, "TIME_ZONE": "Europe/Atlantis", "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True
    )
    # then it exits with the variable named, not a stack of unrelated errors
    assert result.returncode != 0
    assert "TIME_ZONE='Europe/Atlantis' is not valid" in result.stderr


def test_redis_broker_redelivers_a_dead_workers_tasks_after_the_visibility_timeout(
    clean_env, monkeypatch
):
    # given a Redis broker and a short visibility timeout
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
    monkeypatch.setenv("BROKER_VISIBILITY_TIMEOUT", "30")

    # when the configuration is read
    config = Config(environ.Env(), REPO)

    # then kombu is told the timeout and sweeps often enough for it to hold
    assert config.broker_transport_options == {
        "visibility_timeout": 30,
        "unacked_restore_interval": 3,
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 5.0,
        "socket_timeout": 5.0,
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_CONNECT_TIMEOUT", "1", "must be at least 2 seconds"),
        ("DATABASE_STATEMENT_TIMEOUT", "soon", "expected a number"),
    ],
)
def test_malformed_postgresql_timeouts_are_named(clean_env, monkeypatch, name, value, message):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal:5432/digest")
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=f"{name}=.*{message}"):
        Config(environ.Env(), REPO)


def test_sqlite_gets_no_postgresql_options_and_a_zero_statement_timeout_means_none(
    clean_env, monkeypatch
):
    # SQLite: neither libpq option applies
    assert "connect_timeout" not in Config(environ.Env(), REPO).database["OPTIONS"]
    # PostgreSQL with DATABASE_STATEMENT_TIMEOUT=0: the connect timeout only
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal:5432/digest")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", "0")
    assert Config(environ.Env(), REPO).database["OPTIONS"] == {"connect_timeout": 5}


def test_a_visibility_timeout_that_is_not_a_number_is_refused(clean_env, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
    monkeypatch.setenv("BROKER_VISIBILITY_TIMEOUT", "soon")
    with pytest.raises(ImproperlyConfigured, match="BROKER_VISIBILITY_TIMEOUT"):
        Config(environ.Env(), REPO)


def test_log_and_error_reporting_settings_are_read_and_checked(clean_env, monkeypatch):
    # given JSON logs, a level and a Sentry DSN
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("SENTRY_DSN", "https://abc123@sentry.example.org/4")

    config = Config(environ.Env(), REPO)

    assert (config.log_format, config.log_level) == ("json", "WARNING")
    assert config.sentry_dsn == "https://abc123@sentry.example.org/4"
    assert config.sentry_environment == "production"


def test_a_bad_sentry_dsn_is_refused_without_echoing_its_key(clean_env, monkeypatch):
    monkeypatch.setenv("SENTRY_DSN", "sentry.example.org/secretkey42")
    with pytest.raises(ImproperlyConfigured, match="SENTRY_DSN") as refused:
        Config(environ.Env(), REPO)
    assert "secretkey42" not in str(refused.value)


def test_an_unknown_log_format_is_refused(clean_env, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        Config(environ.Env(), REPO)
