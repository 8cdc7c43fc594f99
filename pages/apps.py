from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PagesConfig(AppConfig):
    name = "pages"
    verbose_name = "Public pages"

    def ready(self) -> None:
        # Imported here: the models are not loaded when this module is.
        from pages.search import fts_index_ensure

        # SQLite rebuilds a table to alter it, dropping the search index's triggers.
        post_migrate.connect(fts_index_ensure, dispatch_uid="pages.fts_index_ensure")
