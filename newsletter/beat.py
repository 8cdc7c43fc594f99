"""The schedule run by Celery beat (times in UTC).

arXiv announces Sunday to Thursday at 20:00 US Eastern; its feeds are rebuilt at midnight
Eastern (04:00 UTC in summer, 05:00 UTC in winter). Ingestion starts after that and retries a
stale feed until ARXIV_RETRY_UNTIL; digests then go out at each reader's next local delivery time.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "ingest-announcement": {
        "task": "digests.tasks.announcement_ingest",
        # 05:20 UTC Monday to Friday: after every rebuild of the feeds, summer or winter.
        "schedule": crontab(minute=20, hour=5, day_of_week="mon-fri"),
    },
    "send-due-digests": {
        "task": "digests.tasks.digests_send_due",
        "schedule": crontab(minute="*/15"),
    },
    "purge-unconfirmed-sign-ups": {
        "task": "subscribers.tasks.unconfirmed_purge_daily",
        "schedule": crontab(minute=40, hour=3),  # daily, away from ingestion and the sends
    },
    "zotero-libraries": {
        "task": "digests.tasks.zotero_sync_daily",
        "schedule": crontab(minute=10, hour=4),  # daily, before ingestion reads the profiles
    },
}
