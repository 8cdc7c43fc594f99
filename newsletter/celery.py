"""The Celery application; tasks live in each app's tasks.py, the schedule in beat.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")

app = Celery("newsletter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {}  # filled in by newsletter.beat once settings are loaded


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **_: object) -> None:
    from newsletter.beat import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE
