"""The public pages' rate counters live in an UNLOGGED table on PostgreSQL.

A counter is a count of the last minutes' requests of one client: losing them in a crash only
resets the limit, which no one needs back. An unlogged table writes no WAL, so the counter's
upsert (a statement of its own on every public submission and scan) commits without waiting
for the disk; the submission itself is still written and flushed as before. Other databases
(SQLite) have no such table kind and keep theirs.
"""

from django.db import migrations


def _set(kind: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = apps.get_model("travel", "RateCounter")._meta.db_table
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET {kind}")

    return run


class Migration(migrations.Migration):
    dependencies = [("travel", "0006_leaner_write_indexes")]

    operations = [migrations.RunPython(_set("UNLOGGED"), _set("LOGGED"))]
