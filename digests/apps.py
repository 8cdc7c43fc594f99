from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "digests"
    verbose_name = "Digests"

    def ready(self) -> None:
        # Models are importable only once the registry is ready, hence the imports here.
        from anymail.signals import tracking
        from django.core.checks import Tags, register

        from digests.arxiv.library import library_lookup_now
        from digests.arxiv.seeds import seeds_status
        from digests.biorxiv.subjects import category_known
        from digests.models import Topic
        from digests.personal_data import personal_data
        from digests.preview import digest_preview
        from digests.scoring.inputs import categories_inferred
        from digests.tasks import library_lookup_queue, seeds_lookup_queue
        from digests.tracking import on_tracking
        from newsletter.checks import esp_webhook_secret_check
        from subscribers.papers_side import PapersSide, papers_side_provide

        tracking.connect(on_tracking, dispatch_uid="digests.tracking")
        register(esp_webhook_secret_check, Tags.security, deploy=True)
        papers_side_provide(
            PapersSide(
                topic_model=Topic,
                category_known=category_known,
                profile_preview=digest_preview,
                personal_data=personal_data,
                seeds_status=seeds_status,
                seeds_lookup=seeds_lookup_queue,
                categories_inferred=categories_inferred,
                library_lookup=library_lookup_now,
                library_lookup_queue=library_lookup_queue,
            )
        )
