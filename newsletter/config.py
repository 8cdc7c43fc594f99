"""Read and validate the operator's environment variables.

Every variable of the operator's contract is read here, with its embedded default, and a
malformed value stops start-up with a message that names the variable.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

__all__ = ["Config", "load_config"]

DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "sqlite"}
BROKER_SCHEMES = {
    "redis",
    "rediss",
    "amqp",
    "amqps",
    "pyamqp",
    "filesystem",
    "memory",
    "sqla+sqlite",
}


def _fail(name: str, value: str, why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}={value!r} is not valid: {why}")


def _http_url(env: environ.Env, name: str, default: str) -> str:
    value = env.str(name, default=default)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise _fail(name, value, "expected an absolute http(s) URL")
    return value


def _positive_number(env: environ.Env, name: str, default: float, *, integer: bool) -> float:
    raw = env.str(name, default=str(default))
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise _fail(name, raw, f"expected {kind}") from None
    if value < 0:
        raise _fail(name, raw, "must not be negative")
    return value


def _database(env: environ.Env, data_dir: Path) -> dict:
    raw = env.str("DATABASE_URL", default="")
    if not raw:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(data_dir / "db.sqlite3"),
            "OPTIONS": {"timeout": 20},
        }
    scheme = urlsplit(raw).scheme
    if scheme not in DATABASE_SCHEMES:
        raise _fail("DATABASE_URL", raw, f"the scheme must be one of {sorted(DATABASE_SCHEMES)}")
    config = environ.Env.db_url_config(raw)
    if scheme != "sqlite" and not config.get("NAME"):
        raise _fail("DATABASE_URL", raw, "no database name after the host")
    if scheme != "sqlite":
        _bound_postgres_waits(env, config)
    return config


def _timeout(env: environ.Env, name: str, default: float) -> float:
    """Seconds to wait at most; never 0, which the client libraries read as "for ever"."""
    value = _positive_number(env, name, default, integer=False)
    if value <= 0:
        raise _fail(name, str(value), "must be more than 0 seconds")
    return value


def _bound_postgres_waits(env: environ.Env, config: dict) -> None:
    """A PostgreSQL that accepts and never answers must not hang every request: libpq gives up
    connecting after DATABASE_CONNECT_TIMEOUT, and the server cancels any statement running
    longer than DATABASE_STATEMENT_TIMEOUT (0: no limit). Values in the URL's query win."""
    connect = int(_positive_number(env, "DATABASE_CONNECT_TIMEOUT", 5, integer=True))
    if connect < 2:  # psycopg waits at least 2 s, and 0 would mean "for ever"
        raise _fail("DATABASE_CONNECT_TIMEOUT", str(connect), "must be at least 2 seconds")
    statement = _positive_number(env, "DATABASE_STATEMENT_TIMEOUT", 30, integer=False)
    options = config.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", connect)
    if statement and "statement_timeout" not in options.get("options", ""):
        flag = f"-c statement_timeout={round(statement * 1000)}"
        options["options"] = f"{options.get('options', '')} {flag}".strip()


def _time_zone(env: environ.Env) -> str:
    value = env.str("TIME_ZONE", default="UTC")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _fail("TIME_ZONE", value, "not an IANA time zone such as Europe/Paris") from None
    return value


def _broker(env: environ.Env) -> str:
    value = env.str("CELERY_BROKER_URL", default="filesystem://")
    scheme = urlsplit(value).scheme
    if scheme not in BROKER_SCHEMES:
        raise _fail(
            "CELERY_BROKER_URL", value, f"the scheme must be one of {sorted(BROKER_SCHEMES)}"
        )
    return value


def _anymail_settings(env: environ.Env) -> dict[str, str]:
    """Collect ANYMAIL_* variables (e.g. ANYMAIL_POSTMARK_SERVER_TOKEN) into Anymail's dict."""
    prefix = "ANYMAIL_"
    return {
        name[len(prefix) :]: value
        for name, value in env.ENVIRON.items()
        if name.startswith(prefix) and name != "ANYMAIL"
    }


def _broker_transport_options(
    env: environ.Env, broker_url: str, data_dir: Path, timeout: float
) -> dict:
    """Redis: how soon a task taken by a worker that died is handed to another (acks are late,
    so it is redelivered, and the delivery's claim makes the second run a no-op if the first
    got through), and socket timeouts so that a Redis that stops answering fails a publish
    instead of hanging it. The serverless default broker keeps its queue as files."""
    if broker_url.startswith(("redis://", "rediss://")):
        seconds = int(_positive_number(env, "BROKER_VISIBILITY_TIMEOUT", 3600, integer=True))
        return {
            "visibility_timeout": seconds,
            # sweep for such tasks often enough that the timeout is what decides
            "unacked_restore_interval": max(1, min(10, seconds // 10)),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,  # longer than BRPOP's own 1 s wait
        }
    if not broker_url.startswith("filesystem://"):
        return {}
    folder = data_dir / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        # fanout exchanges (remote control); kombu's default is ./control, in the working dir
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


def _clock_time(env: environ.Env, name: str, default: str) -> dt.time:
    value = env.str(name, default=default)
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise _fail(name, value, "expected a time of day like 10:00") from None


# arXiv's codes (cs.CL, stat), and bioRxiv's and medRxiv's subjects (biorxiv:cell_biology).
_CATEGORY_CODE = re.compile(r"^(?:[a-z-]+(\.[A-Za-z-]+)?|(?:bio|med)rxiv:[a-z_]+)$")


def _arxiv_categories(env: environ.Env) -> str | tuple[str, ...]:
    """ARXIV_CATEGORIES: "auto", "all", or a comma list of arXiv categories or archives."""
    raw = env.str("ARXIV_CATEGORIES", default="auto").strip()
    if raw.lower() in {"auto", "all"}:
        return raw.lower()
    codes = tuple(dict.fromkeys(c.strip() for c in raw.split(",") if c.strip()))
    wrong = [c for c in codes if not _CATEGORY_CODE.match(c)]
    if not codes or wrong:
        raise _fail("ARXIV_CATEGORIES", raw, "auto, all, or a comma list like cs.CL,cs.AI")
    return codes


def _cache(env: environ.Env) -> dict:
    """CACHE_URL (redis://…) shares rate limits between processes; default: local memory."""
    raw = env.str("CACHE_URL", default="")
    if not raw:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if urlsplit(raw).scheme not in {"redis", "rediss"}:
        raise _fail("CACHE_URL", raw, "expected redis://host:port/db")
    # A Redis that stops answering fails a rate-limit check in a second, never hangs a request.
    timeout = _timeout(env, "CACHE_SOCKET_TIMEOUT", 1.0)
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": raw,
        "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
    }


def _forwarded_allow_ips(env: environ.Env) -> tuple[str, ...]:
    """FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-* headers count ("*": any peer)."""
    raw = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1")
    addresses = tuple(a.strip() for a in raw.split(",") if a.strip())
    for address in addresses:
        if address == "*":
            continue
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise _fail("FORWARDED_ALLOW_IPS", raw, "a comma list of IP addresses, or *") from None
    return addresses


class Config:
    """The validated environment, as plain attributes for settings.py."""

    def __init__(self, env: environ.Env, base_dir: Path) -> None:
        self.data_dir = Path(env.str("DATA_DIR", default=str(base_dir / "data")))
        self.debug = env.bool("DEBUG", default=False)
        self.secret_key = env.str("SECRET_KEY", default="")
        self.allowed_hosts = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
        self.time_zone = _time_zone(env)
        self.database = _database(env, self.data_dir)
        self.broker_url = _broker(env)
        self.site_url = _http_url(env, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")
        self.default_from_email = env.str(
            "DEFAULT_FROM_EMAIL", default="arXiv Digest <digest@localhost>"
        )
        self.email_backend = env.str("EMAIL_BACKEND", default="newsletter.mail.EmlFileBackend")
        self.email_file_path = Path(
            env.str("EMAIL_FILE_PATH", default=str(self.data_dir / "outbox"))
        )
        self.anymail = env.json("ANYMAIL", default={})
        self.anymail.update(_anymail_settings(env))
        self.broker_timeout = _timeout(env, "BROKER_TIMEOUT", 5.0)
        self.broker_transport_options = _broker_transport_options(
            env, self.broker_url, self.data_dir, self.broker_timeout
        )
        self.arxiv_rss_url = _http_url(env, "ARXIV_RSS_URL", "https://rss.arxiv.org/rss/")
        self.arxiv_api_url = _http_url(env, "ARXIV_API_URL", "https://export.arxiv.org/api/query")
        self.arxiv_html_url = _http_url(env, "ARXIV_HTML_URL", "https://arxiv.org/html/")
        self.arxiv_retry_until = _clock_time(env, "ARXIV_RETRY_UNTIL", "10:00")
        self.biorxiv_api_url = _http_url(env, "BIORXIV_API_URL", "https://api.biorxiv.org")
        self.biorxiv_request_delay = _positive_number(
            env, "BIORXIV_REQUEST_DELAY", 1.0, integer=False
        )
        self.arxiv_categories = _arxiv_categories(env)
        self.cache = _cache(env)
        self.send_deadline_hours = _positive_number(env, "SEND_DEADLINE_HOURS", 12, integer=False)
        self.send_retry_first_seconds = _positive_number(
            env, "SEND_RETRY_FIRST_SECONDS", 30, integer=False
        )
        self.send_concurrency = int(_positive_number(env, "SEND_CONCURRENCY", 8, integer=True))
        if self.send_concurrency < 1:
            raise _fail("SEND_CONCURRENCY", str(self.send_concurrency), "must be at least 1")
        self.send_chunk_size = int(_positive_number(env, "SEND_CHUNK_SIZE", 500, integer=True))
        if self.send_chunk_size < 1:
            raise _fail("SEND_CHUNK_SIZE", str(self.send_chunk_size), "must be at least 1")
        # Soft bounces (mailbox full, greylisting, deferrals) suppress once this many digests
        # bounced softly within the window; a hard bounce or a complaint suppresses at once.
        self.soft_bounce_limit = int(_positive_number(env, "SOFT_BOUNCE_LIMIT", 3, integer=True))
        if self.soft_bounce_limit < 1:
            raise _fail("SOFT_BOUNCE_LIMIT", str(self.soft_bounce_limit), "must be at least 1")
        self.soft_bounce_window_days = int(
            _positive_number(env, "SOFT_BOUNCE_WINDOW_DAYS", 14, integer=True)
        )
        if self.soft_bounce_window_days < 1:
            raise _fail("SOFT_BOUNCE_WINDOW_DAYS", str(self.soft_bounce_window_days), "at least 1")
        static_root = env.str("STATIC_ROOT", default="")
        self.static_root = Path(static_root) if static_root else None
        self.log_format = env.str("LOG_FORMAT", default="plain")
        if self.log_format not in {"plain", "json"}:
            raise _fail("LOG_FORMAT", self.log_format, "plain or json")
        self.log_level = env.str("LOG_LEVEL", default="INFO").upper()
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise _fail("LOG_LEVEL", self.log_level, "DEBUG, INFO, WARNING, ERROR or CRITICAL")
        self.sentry_dsn = env.str("SENTRY_DSN", default="")
        dsn = urlsplit(self.sentry_dsn)
        if self.sentry_dsn and (dsn.scheme not in {"http", "https"} or not dsn.username):
            # never echo the DSN: its user part is a key
            raise ImproperlyConfigured("SENTRY_DSN is not valid: expected https://key@host/project")
        self.sentry_environment = env.str("SENTRY_ENVIRONMENT", default="production")
        self.trusted_proxy_count = env.int("TRUSTED_PROXY_COUNT", default=0)
        if self.trusted_proxy_count < 0:
            raise _fail("TRUSTED_PROXY_COUNT", str(self.trusted_proxy_count), "must be 0 or more")
        self.forwarded_allow_ips = _forwarded_allow_ips(env)
        self.arxiv_request_delay = _positive_number(env, "ARXIV_REQUEST_DELAY", 3.0, integer=False)
        self.arxiv_html_pages = int(_positive_number(env, "ARXIV_HTML_PAGES", 200, integer=True))
        self.unconfirmed_purge_days = int(
            _positive_number(env, "UNCONFIRMED_PURGE_DAYS", 7, integer=True)
        )
        if self.unconfirmed_purge_days < 1:
            raise _fail("UNCONFIRMED_PURGE_DAYS", str(self.unconfirmed_purge_days), "at least 1")
        self.openai_api_key = env.str("OPENAI_API_KEY", default="")
        self.openai_base_url = env.str("OPENAI_BASE_URL", default="")
        if self.openai_base_url:
            self.openai_base_url = _http_url(env, "OPENAI_BASE_URL", "")
        self.llm_model = env.str("LLM_MODEL", default="gpt-4o-mini")
        self.llm_embedding_model = env.str("LLM_EMBEDDING_MODEL", default="")
        self.semantic_model = env.str("SEMANTIC_MODEL", default="wordllama")
        if self.semantic_model not in {"wordllama", "none"}:
            raise _fail("SEMANTIC_MODEL", self.semantic_model, "wordllama or none")
        self.llm_daily_token_budget = int(
            _positive_number(env, "LLM_DAILY_TOKEN_BUDGET", 2_000_000, integer=True)
        )
        self.llm_concurrency = int(_positive_number(env, "LLM_CONCURRENCY", 4, integer=True))
        self.llm_structured_output = env.str("LLM_STRUCTURED_OUTPUT", default="json_schema")
        if self.llm_structured_output not in {"json_schema", "json_object"}:
            raise _fail(
                "LLM_STRUCTURED_OUTPUT", self.llm_structured_output, "json_schema or json_object"
            )
        self.llm_timeout = _positive_number(env, "LLM_TIMEOUT", 60.0, integer=False)
        self.llm_day_deadline = _positive_number(env, "LLM_DAY_DEADLINE", 600.0, integer=False)
        self.llm_breaker_failures = int(
            _positive_number(env, "LLM_BREAKER_FAILURES", 3, integer=True)
        )
        if self.llm_breaker_failures < 1:
            raise _fail(
                "LLM_BREAKER_FAILURES", str(self.llm_breaker_failures), "must be at least 1"
            )
        self.llm_price_input = _positive_number(env, "LLM_PRICE_INPUT", 0.15, integer=False)
        self.llm_price_output = _positive_number(env, "LLM_PRICE_OUTPUT", 0.60, integer=False)
        if self.llm_concurrency < 1:
            raise _fail("LLM_CONCURRENCY", str(self.llm_concurrency), "must be at least 1")


def load_config(base_dir: Path) -> Config:
    """Read the environment (and a `.env` file beside manage.py, if any) into a Config."""
    env = environ.Env()
    dotenv = base_dir / ".env"
    if dotenv.is_file():
        environ.Env.read_env(str(dotenv))
    return Config(env, base_dir)
