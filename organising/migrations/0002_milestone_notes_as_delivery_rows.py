"""Milestone notes become delivery rows of the newsletter's engine.

Existing notes keep their outcome: sent stays sent, failed stays failed. A
note left `sending` by a worker that died is the engine's in-doubt case: it
goes back to the queue, counted as retransmitted, and is sent again (from now
on every attempt carries the same Message-ID). Each existing note was tried
once.
"""

import django.utils.timezone
from django.db import migrations, models

MOVE_EXISTING_NOTES = """
    UPDATE petitions_milestonenote
    SET attempts = 1,
        updated_at = COALESCE(sent_at, created_at),
        next_attempt_at = now(),
        retransmitted = CASE WHEN state = 'sending' THEN 1 ELSE 0 END,
        last_error = CASE WHEN state = 'sending'
            THEN 'interrupted while sending: queued again with the same Message-ID'
            ELSE last_error END,
        state = CASE WHEN state = 'sending' THEN 'queued' ELSE state END
"""


class Migration(migrations.Migration):
    dependencies = [
        ("organising", "0001_initial"),
        ("petitions", "0014_back_office_to_organising"),
    ]

    operations = [
        migrations.AddField(
            model_name="milestonenote",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="milestonenote",
            name="claim",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="milestonenote",
            name="lease_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="milestonenote",
            name="next_attempt_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="milestonenote",
            name="retransmitted",
            field=models.PositiveSmallIntegerField(db_default=0),
        ),
        migrations.AddField(
            model_name="milestonenote",
            name="updated_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="milestonenote",
            name="state",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("bounced", "Bounced"),
                    ("cancelled", "Not sent: left the list"),
                ],
                default="queued",
                max_length=10,
            ),
        ),
        migrations.RunSQL(sql=MOVE_EXISTING_NOTES, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="milestonenote",
            index=models.Index(
                condition=models.Q(("state", "queued")),
                fields=["milestone", "id"],
                name="note_queued",
            ),
        ),
        migrations.AddIndex(
            model_name="milestonenote",
            index=models.Index(
                condition=models.Q(("state", "sending")),
                fields=["lease_until"],
                name="note_sending_lease",
            ),
        ),
        migrations.AddConstraint(
            model_name="milestonenote",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("state", "sending"), _negated=True),
                    models.Q(("claim__isnull", False), ("lease_until__isnull", False)),
                    _connector="OR",
                ),
                name="sending_note_has_lease",
            ),
        ),
    ]
