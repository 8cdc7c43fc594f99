# One image for web, worker and beat (compose.yaml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data

RUN useradd --create-home --uid 10001 app \
    && mkdir -p /data /app \
    && chown app:app /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY newsletter newsletter
COPY subscribers subscribers
COPY digests digests
COPY pages pages
COPY staff staff
COPY templates templates
COPY locale locale
COPY manage.py Procfile ./
RUN pip install .

# Static files are collected into the image and served by WhiteNoise.
RUN SECRET_KEY=build-only DATA_DIR=/tmp/build python manage.py collectstatic --noinput -v0 \
    && cp -r /tmp/build/static /app/static && rm -rf /tmp/build \
    && chown -R app:app /app/static
ENV STATIC_ROOT=/app/static

USER app
EXPOSE 8000
# Asked with a host name of ALLOWED_HOSTS, or Django would refuse it (400) in production.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import os, sys, urllib.request as r; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; sys.exit(r.urlopen(r.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=4).status != 200)"
ENV WEB_BIND=0.0.0.0:8000
CMD ["gunicorn", "-c", "python:newsletter.gunicorn_conf", "newsletter.wsgi"]
