"""Record the goals petitions have newly reached (organising.milestones).

    manage.py detect_milestones

The worker does the same every five minutes (organising.tasks.detect_milestones)
and then sends the notes; this command only records and lists. Each goal is
recorded once.
"""

from django.core.management.base import BaseCommand

from organising.milestones import milestone_recipients, milestones_detect


class Command(BaseCommand):
    help = "Record the signature goals petitions have newly reached."

    def handle(self, *args, **options):
        for milestone in milestones_detect():
            note = (
                f"{milestone_recipients(milestone=milestone).count()} to notify"
                if milestone.announce
                else "passed at once with a higher goal: not announced"
            )
            self.stdout.write(
                f"{milestone.petition.slug} reached {milestone.goal}: {note}"
            )
