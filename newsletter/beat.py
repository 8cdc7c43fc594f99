"""The daily schedule run by Celery beat (times in UTC).

arXiv announces Sunday to Thursday at 20:00 US Eastern (00:00 or 01:00 UTC); its feeds are
rebuilt shortly after. The pipeline runs after that: ingest, enrich, then digests are assembled
and sent as each subscriber's local delivery time comes.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "daily-pipeline": {
        "task": "digests.tasks.pipeline_run_daily",
        # 02:30 UTC, Monday to Friday: after every announcement (Sun–Thu evenings, US Eastern).
        "schedule": crontab(minute=30, hour=2, day_of_week="mon-fri"),
    },
}
