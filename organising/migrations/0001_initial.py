"""The organisers' back office, moved out of the petitions app.

The tables were created by petitions' migrations and keep their names
(`db_table`) and their constraint and index names: this migration creates
the models in organising's state only, after petitions 0014 took them out
of petitions' state. It also moves their content types from the app label
"petitions" to "organising", which carries their permissions along, so the
grants already given (the Organisers group, named people with the e-mail
export) keep working as "organising.<codename>".
"""

import django.db.models.deletion
import django.utils.timezone
import django_countries.fields
from django.conf import settings
from django.db import migrations, models

# The models that moved, by their content type's model name.
MOVED = [
    "bulkinvalidation",
    "bulkinvalidationitem",
    "milestone",
    "milestonenote",
    "paperbatch",
    "paperbatchchange",
    "signaturealert",
    "signatureexport",
]


def _move_content_types(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in MOVED:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
            continue
        # Both exist when a migrate run for another app created the new app's
        # rows early (post_migrate): keep the new ones and give them the grants
        # the old ones had.
        for permission in Permission.objects.filter(content_type=old):
            twin = Permission.objects.filter(
                content_type=new, codename=permission.codename
            ).first()
            if twin is None:
                permission.content_type = new
                permission.save(update_fields=["content_type"])
                continue
            twin.group_set.add(*permission.group_set.all())
            twin.user_set.add(*permission.user_set.all())
            permission.delete()
        old.delete()


def content_types_to_organising(apps, schema_editor):
    _move_content_types(apps, "petitions", "organising")


def content_types_to_petitions(apps, schema_editor):
    _move_content_types(apps, "organising", "petitions")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("petitions", "0014_back_office_to_organising"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="BulkInvalidation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "criteria",
                            models.JSONField(help_text="What the signatures matched."),
                        ),
                        ("count", models.PositiveIntegerField(default=0)),
                        (
                            "state",
                            models.CharField(
                                choices=[("queued", "Queued"), ("done", "Done")],
                                default="done",
                                max_length=8,
                                verbose_name="state",
                            ),
                        ),
                        (
                            "done_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="done"
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        ("undone_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "restored",
                            models.PositiveIntegerField(
                                default=0,
                                help_text="Signatures given back their status by the undo.",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "petition",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="bulk_invalidations",
                                to="petitions.petition",
                            ),
                        ),
                        (
                            "undone_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "petitions_bulkinvalidation",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Milestone",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("goal", models.PositiveIntegerField()),
                        (
                            "reached_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        (
                            "announce",
                            models.BooleanField(
                                default=True,
                                help_text="Whether signers get a note about this goal.",
                            ),
                        ),
                        (
                            "announced_at",
                            models.DateTimeField(
                                blank=True,
                                help_text="When the delivery of the note to signers finished.",
                                null=True,
                            ),
                        ),
                        (
                            "petition",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="milestones",
                                to="petitions.petition",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "petitions_milestone",
                        "ordering": ["-reached_at"],
                    },
                ),
                migrations.CreateModel(
                    name="MilestoneNote",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("failed", "Failed"),
                                ],
                                default="sending",
                                max_length=8,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.CharField(blank=True, max_length=200)),
                        (
                            "milestone",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notes",
                                to="organising.milestone",
                            ),
                        ),
                        (
                            "signature",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="petitions.signature",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "petitions_milestonenote",
                    },
                ),
                migrations.CreateModel(
                    name="PaperBatch",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "country",
                            django_countries.fields.CountryField(
                                blank=True,
                                help_text="Where the signatures were collected.",
                                max_length=2,
                            ),
                        ),
                        (
                            "count",
                            models.PositiveIntegerField(
                                help_text="How many signatures the batch holds."
                            ),
                        ),
                        (
                            "collected_on",
                            models.DateField(
                                help_text="The day the signatures were collected (the last day, if several)."
                            ),
                        ),
                        (
                            "collected_by",
                            models.CharField(
                                help_text="Who collected them: a person, a group or an event.",
                                max_length=200,
                            ),
                        ),
                        (
                            "note",
                            models.TextField(
                                blank=True,
                                help_text="Anything worth knowing, for the other organisers.",
                            ),
                        ),
                        (
                            "names",
                            models.TextField(
                                blank=True,
                                help_text="Optional: the signers' names, one per line, printed in the delivery pack. Never more names than the count.",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, editable=False
                            ),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, editable=False
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "petition",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="paper_batches",
                                to="petitions.petition",
                            ),
                        ),
                        (
                            "updated_by",
                            models.ForeignKey(
                                blank=True,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "paper batch",
                        "verbose_name_plural": "paper batches",
                        "db_table": "petitions_paperbatch",
                        "ordering": ["-collected_on", "-pk"],
                    },
                ),
                migrations.CreateModel(
                    name="PaperBatchChange",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("batch_id", models.PositiveIntegerField(db_index=True)),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("created", "Created"),
                                    ("changed", "Changed"),
                                    ("deleted", "Deleted"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "user_name",
                            models.CharField(
                                help_text="Kept when the user is deleted.",
                                max_length=150,
                            ),
                        ),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("before", models.JSONField(blank=True, null=True)),
                        ("after", models.JSONField(blank=True, null=True)),
                        (
                            "petition",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="paper_batch_changes",
                                to="petitions.petition",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "paper batch change",
                        "verbose_name_plural": "paper batch changes",
                        "db_table": "petitions_paperbatchchange",
                        "ordering": ["-at", "-pk"],
                    },
                ),
                migrations.CreateModel(
                    name="SignatureAlert",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("hour", models.DateTimeField()),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("ip_hash", "IP hash"),
                                    ("email_domain", "E-mail domain"),
                                ],
                                max_length=12,
                            ),
                        ),
                        ("value", models.CharField(max_length=254)),
                        ("count", models.PositiveIntegerField()),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        (
                            "petition",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="alerts",
                                to="petitions.petition",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "petitions_signaturealert",
                        "ordering": ["-hour", "-count"],
                    },
                ),
                migrations.CreateModel(
                    name="SignatureExport",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("by-day", "Counts by day"),
                                    ("by-country", "Counts by country"),
                                    ("by-source", "Counts by source"),
                                    ("delivery", "Delivery list"),
                                    ("delivery-pdf", "Delivery pack (PDF)"),
                                ],
                                max_length=12,
                            ),
                        ),
                        (
                            "with_emails",
                            models.BooleanField(
                                default=False,
                                help_text="Whether the file included e-mail addresses.",
                            ),
                        ),
                        (
                            "requested_by",
                            models.CharField(
                                help_text="Who asked, as text: the user name for downloads, 'command line' and the system user for the export_signatures command. Kept when the user is deleted.",
                                max_length=150,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        (
                            "row_count",
                            models.PositiveIntegerField(
                                default=0,
                                help_text="Rows written, not counting the header row.",
                            ),
                        ),
                        (
                            "finished",
                            models.BooleanField(
                                default=False,
                                help_text="False if the export stopped part-way, for example because the download was cancelled; the row count is then what was sent.",
                            ),
                        ),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "petition",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="exports",
                                to="petitions.petition",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                help_text="The staff member who downloaded it; empty for the command line.",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "petitions_signatureexport",
                        "ordering": ["-created_at"],
                        "permissions": [
                            ("view_dashboard", "Can view the campaign dashboard"),
                            (
                                "export_counts",
                                "Can export signature counts by day and country",
                            ),
                            (
                                "export_delivery_list",
                                "Can export the delivery list (no e-mails)",
                            ),
                            (
                                "export_emails",
                                "Can export the delivery list with e-mail addresses",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="BulkInvalidationItem",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "previous_status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending confirmation"),
                                    ("confirmed", "Confirmed"),
                                    ("withdrawn", "Withdrawn by the signer"),
                                    ("invalidated", "Invalidated by staff"),
                                ],
                                max_length=12,
                            ),
                        ),
                        ("previous_show_publicly", models.BooleanField()),
                        (
                            "bulk",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="items",
                                to="organising.bulkinvalidation",
                            ),
                        ),
                        (
                            "signature",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="petitions.signature",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "petitions_bulkinvalidationitem",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("bulk", "signature"),
                                name="one_item_per_signature_and_bulk",
                            )
                        ],
                    },
                ),
                migrations.AddConstraint(
                    model_name="milestone",
                    constraint=models.UniqueConstraint(
                        fields=("petition", "goal"), name="one_milestone_per_goal"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="milestonenote",
                    constraint=models.UniqueConstraint(
                        fields=("milestone", "signature"),
                        name="one_note_per_milestone_signer",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="paperbatch",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("count__gt", 0)),
                        name="paper_batch_count_positive",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="signaturealert",
                    constraint=models.UniqueConstraint(
                        fields=("petition", "hour", "kind", "value"),
                        name="one_alert_per_petition_hour_and_value",
                    ),
                ),
            ],
        ),
        migrations.RunPython(content_types_to_organising, content_types_to_petitions),
    ]
