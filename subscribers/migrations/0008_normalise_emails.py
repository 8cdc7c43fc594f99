"""Existing addresses in their one spelling (see `subscribers.addresses`): quotes that are not
needed removed, the domain lower-cased and in ASCII. A row whose normal spelling another row
already holds is left as it is (the two are one mailbox: staff decide which to keep)."""

from django.db import migrations
from django.db.models.functions import Lower

from subscribers.addresses import email_normalise


def forwards(apps, schema_editor):
    subscriber_model = apps.get_model("subscribers", "Subscriber")
    rows = subscriber_model.objects.only("pk", "email")
    taken = set(rows.annotate(lower=Lower("email")).values_list("lower", flat=True))
    for row in rows.iterator(chunk_size=2000):
        normal = email_normalise(row.email)
        if normal == row.email or len(normal) > 254:
            continue
        if normal.lower() != row.email.lower() and normal.lower() in taken:
            continue  # another row is this mailbox
        subscriber_model.objects.filter(pk=row.pk).update(email=normal)
        taken.discard(row.email.lower())
        taken.add(normal.lower())


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0007_held_signup")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
