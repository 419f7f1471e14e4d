"""Create the "Editors" group: staff who write the news, reports and pages.

Editors may add, change, publish and delete newsletter entries and reports,
and keep the campaign pages current. They get no permission on users, groups
or signatures, so the admin answers 403 if they try to reach them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Editors"

PERMISSIONS = {
    "newsletters": {
        "entry": ["add", "change", "delete", "view", "publish"],
        "entrysource": ["add", "change", "delete", "view"],
    },
    "reports": {
        "report": ["add", "change", "delete", "view"],
        "reportconcern": ["add", "change", "delete", "view"],
    },
    # Pages are linked to by slug from the whole site: editors may change them
    # but not create or delete them. Timeline events come and go as facts do.
    "pages": {
        "page": ["change", "view"],
        "timelineevent": ["add", "change", "delete", "view"],
    },
}


def create_editors_group(apps, schema_editor):
    # On a fresh database permissions are only created after all migrations
    # have run (post_migrate); make them now so the group can receive them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    for app_label, models in PERMISSIONS.items():
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            permissions = Permission.objects.filter(
                content_type__app_label=app_label,
                content_type__model=model,
                codename__in=codenames,
            )
            if len(permissions) != len(codenames):
                raise RuntimeError(
                    f"Missing permissions for {app_label}.{model}: {codenames}"
                )
            group.permissions.add(*permissions)


def delete_editors_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("pages", "0001_initial"),
        ("reports", "0001_initial"),
        ("newsletters", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_editors_group, delete_editors_group),
    ]
