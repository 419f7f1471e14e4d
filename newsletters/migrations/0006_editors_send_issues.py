"""Editors prepare and send newsletter issues; they see subscriber counts but
never addresses (exporting those needs petitions.export_emails, given by name)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    "add_issue",
    "change_issue",
    "delete_issue",
    "view_issue",
    "send_issue",
    "view_delivery",
    "view_subscriber",
]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    permissions = Permission.objects.filter(
        content_type__app_label="newsletters", codename__in=CODENAMES
    )
    if len(permissions) != len(CODENAMES):
        raise RuntimeError(f"Missing newsletter permissions: {CODENAMES}")
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Editors").first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="newsletters", codename__in=CODENAMES
            )
        )


class Migration(migrations.Migration):
    dependencies = [("newsletters", "0005_subscribers_from_signers")]

    operations = [migrations.RunPython(grant, revoke)]
