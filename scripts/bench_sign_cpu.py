"""The sign POST's CPU time in one process, for comparing two versions of the code.

Runs the whole Django stack (middleware, view, form, service, the database
statement) through the test Client against the project-local database, one
new signer and client address per request, and prints the process CPU time
per POST (the database server's own work is not counted: it is another
process). Run it from each checkout with the same interpreter:

    .venv/bin/python manage.py migrate --noinput
    .venv/bin/python scripts/bench_sign_cpu.py [requests] [rounds]

The figures to compare are the best round's median and mean (the mean
includes the cycle collector's occasional passes, the median does not): the
best round is the one that noise from other processes disturbed least.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peru_campaign.settings")
os.environ.setdefault("DJANGO_ENV", "development")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from petitions.models import Petition  # noqa: E402

SLUG = "bench-cpu"


def petition() -> Petition:
    found, _created = Petition.objects.update_or_create(
        slug=SLUG,
        defaults={
            "title": "CPU benchmark petition",
            "summary": "Used by scripts/bench_sign_cpu.py only.",
            "addressed_to": "Nobody",
            "body": "A petition that exists only for the benchmark.",
            "goal": 1000,
            "state": Petition.State.OPEN,
        },
    )
    return found


def forget(found: Petition) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM petitions_signature WHERE petition_id = %s", [found.pk]
        )
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE task_name LIKE 'petitions.%%'"
        )


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    found = petition()
    client = Client(HTTP_SEC_FETCH_SITE="same-origin")
    path = reverse("petitions:sign", kwargs={"slug": SLUG})
    serial = 0
    medians, means = [], []
    for round_number in range(rounds):
        forget(found)
        timings = []
        for _ in range(requests):
            serial += 1
            data = {
                "full_name": "Ana Quispe",
                "email": f"cpu{serial}@example.org",
                "country": "PE",
                "consent": "on",
                "source": "bench",
            }
            started = time.process_time()
            response = client.post(
                path,
                data,
                REMOTE_ADDR=f"10.{serial // 62500 % 250}."
                f"{serial // 250 % 250}.{serial % 250}",
            )
            timings.append(time.process_time() - started)
            if response.status_code != 303:
                raise SystemExit(f"unexpected answer {response.status_code}")
        median = statistics.median(timings) * 1e6
        mean = statistics.fmean(timings) * 1e6
        medians.append(median)
        means.append(mean)
        print(
            f"round {round_number + 1}: median {median:.0f} µs, "
            f"mean {mean:.0f} µs CPU per sign POST"
        )
    forget(found)
    print(
        f"best of {rounds} rounds of {requests}: median {min(medians):.0f} µs, "
        f"mean {min(means):.0f} µs"
    )


if __name__ == "__main__":
    main()
