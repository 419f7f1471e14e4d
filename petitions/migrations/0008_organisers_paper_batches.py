"""The Organisers group enters paper batches and reads their audit trail.

Add, change, delete and view paper batches; view (only) the trail of changes,
which the admin never lets anyone edit.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Organisers"
PERMISSIONS = [
    ("paperbatch", "add_paperbatch"),
    ("paperbatch", "change_paperbatch"),
    ("paperbatch", "delete_paperbatch"),
    ("paperbatch", "view_paperbatch"),
    ("paperbatchchange", "view_paperbatchchange"),
]


def grant(apps, schema_editor):
    # As in 0003: permissions are only created after all migrations otherwise.
    app_config = apps.get_app_config("petitions")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=GROUP)
    for model, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(
                content_type__app_label="petitions",
                content_type__model=model,
                codename=codename,
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="petitions",
                codename__in=[codename for _model, codename in PERMISSIONS],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0007_paper_batches"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
