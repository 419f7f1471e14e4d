"""Settings for `make bench`: the site's own, plus the ceiling view's URL."""

from peru_campaign.settings import *  # noqa: F403

ROOT_URLCONF = "scripts.bench_urls"

# The outbox sends to a sink that builds each message's bytes and drops them.
EMAIL_BACKEND = "scripts.bench_email_backend.EmailBackend"
