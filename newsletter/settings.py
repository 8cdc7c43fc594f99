"""Django settings, all from the environment (see newsletter/config.py and the README)."""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path

from newsletter.config import load_config

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = load_config(BASE_DIR)
DATA_DIR = CONFIG.data_dir
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use SECRET_KEY, or a random key kept in the data folder so sessions survive restarts."""
    if CONFIG.secret_key:
        return CONFIG.secret_key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts

INSTALLED_APPS = [
    "staff.apps.StaffAdminConfig",  # django.contrib.admin, with the staff site as its default
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anymail",
    "subscribers",
    "digests",
    "pages",
    "staff.apps.StaffConfig",
]
# The stand-ins for tests, benches and the demo (`run_recorded_day`): present in a checkout,
# absent from the image and from an installed package.
if importlib.util.find_spec("devtools") is not None:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "newsletter.security.TrustedProxyMiddleware",  # first: X-Forwarded-* only from our proxy
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "newsletter.security.ContentSecurityPolicyMiddleware",
    "subscribers.session.SubscriberLanguageMiddleware",
]

ROOT_URLCONF = "newsletter.urls"
WSGI_APPLICATION = "newsletter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "subscribers.session.signed_in_context",
            ],
        },
    },
]

DATABASES = {"default": CONFIG.database}  # PostgreSQL: connect and statement timeouts
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = CONFIG.time_zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = CONFIG.static_root or DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SITE_URL = CONFIG.site_url
DEFAULT_FROM_EMAIL = CONFIG.default_from_email
SERVER_EMAIL = CONFIG.default_from_email
EMAIL_BACKEND = CONFIG.email_backend
EMAIL_FILE_PATH = CONFIG.email_file_path
ANYMAIL = CONFIG.anymail
SOFT_BOUNCE_LIMIT = CONFIG.soft_bounce_limit
SOFT_BOUNCE_WINDOW_DAYS = CONFIG.soft_bounce_window_days

ARXIV_RSS_URL = CONFIG.arxiv_rss_url
ARXIV_API_URL = CONFIG.arxiv_api_url
ARXIV_HTML_URL = CONFIG.arxiv_html_url
ARXIV_REQUEST_DELAY = CONFIG.arxiv_request_delay
ARXIV_HTML_PAGES = CONFIG.arxiv_html_pages  # pages a day beyond the papers readers are shown
ARXIV_RETRY_UNTIL = CONFIG.arxiv_retry_until
# What ingestion reads: "auto" (what readers name or seem to read), "all", or a tuple of codes.
ARXIV_CATEGORIES = CONFIG.arxiv_categories
# bioRxiv and medRxiv (one API for both servers), paced like arXiv under their own clock.
BIORXIV_API_URL = CONFIG.biorxiv_api_url
BIORXIV_REQUEST_DELAY = CONFIG.biorxiv_request_delay

CACHES = {"default": CONFIG.cache}

# Security. Behind HTTPS (SITE_URL https://…) and not in DEBUG: HSTS, secure cookies, redirect
# to https; the TLS proxy in front must set X-Forwarded-Proto. Plain-http demo runs keep working.
HTTPS = CONFIG.site_url.startswith("https://") and not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = [CONFIG.site_url]
SECURE_CONTENT_TYPE_NOSNIFF = True
# Links carry tokens: never hand them to another site. (Not "no-referrer": browsers then post
# forms with "Origin: null", which Django's CSRF check refuses.)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SUBSCRIBER_SESSION_AGE = 60 * 60 * 24 * 14  # a magic-link session lasts two weeks at most
TRUSTED_PROXY_COUNT = CONFIG.trusted_proxy_count
FORWARDED_ALLOW_IPS = CONFIG.forwarded_allow_ips  # peers whose X-Forwarded-* headers count

# Staff passwords (the admin): Django's validators, so "1" or "password" is refused.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]  # fmt: skip

OPENAI_API_KEY = CONFIG.openai_api_key
OPENAI_BASE_URL = CONFIG.openai_base_url
LLM_MODEL = CONFIG.llm_model
LLM_EMBEDDING_MODEL = CONFIG.llm_embedding_model
SEMANTIC_MODEL = CONFIG.semantic_model
LLM_DAILY_TOKEN_BUDGET = CONFIG.llm_daily_token_budget
LLM_CONCURRENCY = CONFIG.llm_concurrency
LLM_STRUCTURED_OUTPUT = CONFIG.llm_structured_output
LLM_TIMEOUT = CONFIG.llm_timeout
LLM_DAY_DEADLINE = CONFIG.llm_day_deadline  # seconds of LLM calls per day's reading
LLM_BREAKER_FAILURES = CONFIG.llm_breaker_failures  # outages in a row that stop the day's calls
LLM_PRICE_INPUT = CONFIG.llm_price_input  # USD per million input tokens
LLM_PRICE_OUTPUT = CONFIG.llm_price_output  # USD per million output tokens

SEND_DEADLINE_HOURS = CONFIG.send_deadline_hours  # transient ESP errors retried until then
SEND_RETRY_FIRST_SECONDS = CONFIG.send_retry_first_seconds  # then doubling, at most 15 min
SEND_CHUNK_SIZE = CONFIG.send_chunk_size  # subscribers per Celery task of the daily fan-out
SEND_CONCURRENCY = CONFIG.send_concurrency  # messages in flight per worker (PostgreSQL)
UNCONFIRMED_PURGE_DAYS = CONFIG.unconfirmed_purge_days  # sign-ups never confirmed: deleted then

CELERY_BROKER_URL = CONFIG.broker_url
CELERY_BROKER_TRANSPORT_OPTIONS = CONFIG.broker_transport_options
# A broker that stops answering fails a publish within seconds (a request never hangs on it).
BROKER_TIMEOUT = CONFIG.broker_timeout
CELERY_BROKER_CONNECTION_TIMEOUT = CONFIG.broker_timeout
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "newsletter.logs.ContextFilter"},
        "scrub_tokens": {"()": "newsletter.logs.TokenScrubber"},
    },
    "formatters": {
        "plain": {"()": "newsletter.logs.PlainFormatter"},
        "json": {"()": "newsletter.logs.JSONFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": CONFIG.log_format,
            "filters": ["context", "scrub_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if CONFIG.sentry_dsn:  # errors of web, worker and beat, with no personal data and no tokens
    from newsletter.errors import sentry_init

    sentry_init(dsn=CONFIG.sentry_dsn, environment=CONFIG.sentry_environment)
