"""The search index over papers (`pages.search`): title, authors and abstract.

PostgreSQL: a stored generated tsvector (title A, authors B, abstract C; English stemming) with a
GIN index, and the author names as text with a trigram GIN index (pg_trgm) for names spelt
loosely. SQLite (the embedded mode): an FTS5 table kept by triggers, rowid = the paper's id.
Neither is a model field: the columns are filled by the database, never written by Django.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """ALTER TABLE digests_paper ADD COLUMN search_authors text
       GENERATED ALWAYS AS (jsonb_path_query_array(authors, '$[*].name')::text) STORED""",
    """ALTER TABLE digests_paper ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
         setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
         || setweight(to_tsvector('english'::regconfig,
                                  jsonb_path_query_array(authors, '$[*].name')), 'B')
         || setweight(to_tsvector('english'::regconfig, coalesce(abstract, '')), 'C')
       ) STORED""",
    "CREATE INDEX digests_paper_search_document ON digests_paper USING gin (search_document)",
    """CREATE INDEX digests_paper_search_authors_trgm ON digests_paper
       USING gin (search_authors gin_trgm_ops)""",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS digests_paper_search_authors_trgm",
    "DROP INDEX IF EXISTS digests_paper_search_document",
    "ALTER TABLE digests_paper DROP COLUMN IF EXISTS search_document",
    "ALTER TABLE digests_paper DROP COLUMN IF EXISTS search_authors",
]

# Also run by pages.search.fts_index_ensure after a migration that rebuilt digests_paper.
SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS digests_paper_fts USING fts5(
         title, authors, abstract, tokenize = 'porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER IF NOT EXISTS digests_paper_fts_insert AFTER INSERT ON digests_paper
       BEGIN
         INSERT INTO digests_paper_fts (rowid, title, authors, abstract) VALUES (
           new.id, new.title,
           (SELECT group_concat(json_extract(value, '$.name'), ', ') FROM json_each(new.authors)),
           new.abstract);
       END""",
    """CREATE TRIGGER IF NOT EXISTS digests_paper_fts_delete AFTER DELETE ON digests_paper
       BEGIN
         DELETE FROM digests_paper_fts WHERE rowid = old.id;
       END""",
    """CREATE TRIGGER IF NOT EXISTS digests_paper_fts_update
       AFTER UPDATE OF title, authors, abstract ON digests_paper
       BEGIN
         DELETE FROM digests_paper_fts WHERE rowid = old.id;
         INSERT INTO digests_paper_fts (rowid, title, authors, abstract) VALUES (
           new.id, new.title,
           (SELECT group_concat(json_extract(value, '$.name'), ', ') FROM json_each(new.authors)),
           new.abstract);
       END""",
    "DELETE FROM digests_paper_fts",
    """INSERT INTO digests_paper_fts (rowid, title, authors, abstract)
       SELECT p.id, p.title,
         (SELECT group_concat(json_extract(value, '$.name'), ', ') FROM json_each(p.authors)),
         p.abstract
       FROM digests_paper AS p""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS digests_paper_fts_update",
    "DROP TRIGGER IF EXISTS digests_paper_fts_delete",
    "DROP TRIGGER IF EXISTS digests_paper_fts_insert",
    "DROP TABLE IF EXISTS digests_paper_fts",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("digests", "0015_saved_paper")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
