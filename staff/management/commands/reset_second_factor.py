"""Remove a staff member's second factor when they have lost it.

    python manage.py reset_second_factor organiser@example.org

Their app, passkeys and recovery codes are deleted; at their next log-in they
set up a new one. Check who is asking first (in person, or by a call to a
number you already had): whoever resets a device can be talked into handing
the account to someone else.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from staff.services import second_factor_reset


class Command(BaseCommand):
    help = "Remove a staff user's second-factor devices; they enrol again."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user's log-in name.")

    def handle(self, *args, username, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        removed = second_factor_reset(user=user)
        self.stdout.write(
            f"Removed {removed} second-factor device(s) of {username}; "
            "they set up a new one at their next log-in."
        )
