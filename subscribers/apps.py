from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Subscribers"

    def ready(self) -> None:
        from anymail.signals import tracking

        from subscribers.webhooks import on_tracking

        tracking.connect(on_tracking, dispatch_uid="subscribers.tracking")
