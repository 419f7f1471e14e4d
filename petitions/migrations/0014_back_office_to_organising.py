"""The back office's models move to the organising app (organising 0001).

Their tables stay where they are: this only takes them out of petitions'
migration state, and organising/migrations/0001 puts them into its own.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0013_signature_fewer_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="bulkinvalidationitem",
                    name="bulk",
                ),
                migrations.RemoveField(
                    model_name="bulkinvalidationitem",
                    name="signature",
                ),
                migrations.RemoveField(
                    model_name="milestone",
                    name="petition",
                ),
                migrations.RemoveField(
                    model_name="milestonenote",
                    name="milestone",
                ),
                migrations.RemoveField(
                    model_name="milestonenote",
                    name="signature",
                ),
                migrations.RemoveField(
                    model_name="paperbatch",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="paperbatch",
                    name="petition",
                ),
                migrations.RemoveField(
                    model_name="paperbatch",
                    name="updated_by",
                ),
                migrations.RemoveField(
                    model_name="paperbatchchange",
                    name="petition",
                ),
                migrations.RemoveField(
                    model_name="paperbatchchange",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="signaturealert",
                    name="petition",
                ),
                migrations.RemoveField(
                    model_name="signatureexport",
                    name="petition",
                ),
                migrations.RemoveField(
                    model_name="signatureexport",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="BulkInvalidation",
                ),
                migrations.DeleteModel(
                    name="BulkInvalidationItem",
                ),
                migrations.DeleteModel(
                    name="Milestone",
                ),
                migrations.DeleteModel(
                    name="MilestoneNote",
                ),
                migrations.DeleteModel(
                    name="PaperBatch",
                ),
                migrations.DeleteModel(
                    name="PaperBatchChange",
                ),
                migrations.DeleteModel(
                    name="SignatureAlert",
                ),
                migrations.DeleteModel(
                    name="SignatureExport",
                ),
            ],
        )
    ]
