"""Create a staff login and print its password once.

    python manage.py create_staff_user editor@example.org --group Editors
    python manage.py create_staff_user admin@example.org --superuser

The password is random and shown only here; the user can change it in the
admin ("Change password") after logging in.
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction


class Command(BaseCommand):
    help = "Create a staff user with a random password, printed once."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The user's e-mail address, also the login.")
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            help="A group to join (Editors, Organisers). May be repeated.",
        )
        parser.add_argument(
            "--superuser",
            action="store_true",
            help="Give every permission. Without --group, this is the default.",
        )

    @transaction.atomic
    def handle(self, *args, email, group, superuser, **options):
        try:
            validate_email(email)
        except Exception as exc:
            raise CommandError(f"{email!r} is not a valid e-mail address.") from exc
        user_model = get_user_model()
        if user_model.objects.filter(username__iexact=email).exists():
            raise CommandError(f"A user {email} already exists.")
        groups = []
        for name in group:
            try:
                groups.append(Group.objects.get(name=name))
            except Group.DoesNotExist:
                known = ", ".join(Group.objects.values_list("name", flat=True))
                raise CommandError(
                    f"No group named {name!r}. Known groups: {known or 'none'}."
                ) from None
        password = secrets.token_urlsafe(18)
        user = user_model.objects.create_user(
            username=email, email=email, password=password, is_staff=True
        )
        if superuser or not groups:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        user.groups.set(groups)
        self.stdout.write(f"Staff user {email} created.")
        self.stdout.write(f"Password (shown only this once): {password}")
        self.stdout.write("Log in at /admin/ and change it under 'Change password'.")
        self.stdout.write(
            "Staff who can see personal data set up a second factor at first log-in."
        )
