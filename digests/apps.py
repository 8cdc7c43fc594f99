from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "digests"
    verbose_name = "Digests"

    def ready(self) -> None:
        # Models are importable only once the registry is ready, hence the import here.
        from django.contrib import admin

        from digests.admin_site import admin_urls_extend

        admin_urls_extend(admin.site)
