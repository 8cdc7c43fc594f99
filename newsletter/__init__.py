"""Project package: settings, the Celery app, URLs and the beat schedule."""

from newsletter.celery import app as celery_app

__all__ = ["celery_app"]
