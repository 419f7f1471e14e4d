"""The Organisers group: the dashboard, count exports and the delivery list.

E-mail addresses are deliberately not included: grant "Can export the
delivery list with e-mail addresses" to a named person, on their user page in
the admin, when an e-mail export is really needed. Organisers do not get
"Can view signature" either, because the signature admin shows addresses.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Organisers"
PERMISSIONS = [
    ("petitions", "signatureexport", "view_dashboard"),
    ("petitions", "signatureexport", "export_counts"),
    ("petitions", "signatureexport", "export_delivery_list"),
    ("petitions", "signatureexport", "view_signatureexport"),
    ("petitions", "petition", "view_petition"),
]


def create_group(apps, schema_editor):
    # On a fresh database permissions are only created after all migrations
    # (post_migrate); create this app's now so the group can be given them.
    app_config = apps.get_app_config("petitions")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=GROUP)
    for app_label, model, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(
                content_type__app_label=app_label,
                content_type__model=model,
                codename=codename,
            )
        )


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("petitions", "0002_signature_exports"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
