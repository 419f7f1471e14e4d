"""Settings for the campaign site, all driven by environment variables.

Every variable is listed in docs/configuration.md and .env.example.
DJANGO_ENV=development (set by the Makefile for `make run`, `make test` and
`make bench`) supplies safe local defaults; anywhere else the secret key and
allowed hosts have no default, so a misconfigured production start fails at
once with a clear message.
"""

import base64
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DJANGO_ENV = env.str("DJANGO_ENV", default="production")
if DJANGO_ENV not in {"production", "development"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'production' or 'development'.")
DEVELOPMENT = DJANGO_ENV == "development"


def _required_in_production(name, development_default, cast=str):
    if DEVELOPMENT:
        return env.get_value(name, cast=cast, default=development_default)
    try:
        return env.get_value(name, cast=cast)
    except ImproperlyConfigured:
        raise ImproperlyConfigured(
            f"{name} must be set in production (DJANGO_ENV=production). "
            "See docs/configuration.md."
        ) from None


# ------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------
SECRET_KEY = _required_in_production(
    "DJANGO_SECRET_KEY", "development-only-secret-key-never-use-in-production"
)
# Old keys, newest first, still accepted for signed data (links in e-mails
# already sent, sessions) while everything new is signed with SECRET_KEY:
# rotating the key then breaks no withdraw link (docs/production.md).
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = _required_in_production(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"], list
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Absolute address used in e-mails and share links, e.g. https://standwithperu.org
# No production default: a wrong one puts dead confirmation links in e-mails.
# In development it follows PORT (`PORT=8080 make run`), so the links in e-mails
# point at the server that is actually running.
SITE_URL = _required_in_production(
    "SITE_URL", f"http://127.0.0.1:{env.int('PORT', default=8000)}"
).rstrip("/")
# Identifies the deployed code in cache keys, so a deploy never serves pages
# rendered by the previous templates or forms. Defaults to a digest of them.
RELEASE = (
    env.str("RELEASE", default="")
    or hashlib.sha256(
        b"".join(
            path.read_bytes()
            for pattern in ("templates/**/*.html", "*/forms.py", "locale/**/*.mo")
            for path in sorted(BASE_DIR.glob(pattern))
        )
    ).hexdigest()[:12]
)
# Where supporters write about their data or the site; shown on every page.
CONTACT_EMAIL = _required_in_production("CONTACT_EMAIL", "privacy@localhost")
# Who runs the campaign: named in the footer, the privacy notice, the about
# page and every e-mail, because supporters give their name about state
# violence and must know who holds it.
CAMPAIGN_ORGANISATION = _required_in_production(
    "CAMPAIGN_ORGANISATION", "Stand with Peru (development)"
)
CAMPAIGN_POSTAL_ADDRESS = _required_in_production(
    "CAMPAIGN_POSTAL_ADDRESS", "1 Example Street, London, United Kingdom"
)
# The organisation responsible for signers' data under data-protection law;
# usually the campaign's organisation itself.
DATA_CONTROLLER = env.str("DATA_CONTROLLER", default="") or CAMPAIGN_ORGANISATION

INSTALLED_APPS = [
    # Before the admin, so translated fields show in it for both languages.
    "modeltranslation",
    # The Django admin, whose site asks staff who can see personal data for
    # a second factor (staff/admin_site.py).
    "staff.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_countries",
    "csp",
    "axes",
    "procrastinate.contrib.django",
    "anymail",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "core",
    "pages",
    "petitions",
    "newsletters",
    # Supporters' own rights (their page): reads petitions and newsletters.
    "supporters",
    # The organisers' back office: above petitions and newsletters, which it reads.
    "organising",
    "reports",
    "api",
    # Staff log-in's second factor: above every app, as it names their permissions.
    "staff",
]

MIDDLEWARE = [
    "peru_campaign.middleware.HeadWithoutBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Public pages are compressed here, once per rendering, and nginx caches
    # the compressed copy (deploy/nginx). Safe with secrets in a page too:
    # Django masks CSRF tokens per response and pads compressed output with
    # random bytes ("Heal the BREACH").
    "django.middleware.gzip.GZipMiddleware",
    # Before CommonMiddleware validates the host: load balancers probe by IP.
    "peru_campaign.middleware.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "peru_campaign.middleware.DatabaseUnavailableMiddleware",
    # Before sessions and CSRF, so it sees the cookies they set: a response
    # with a cookie, or to a signed-in visitor, is never cached publicly.
    "core.http_cache.CacheHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language comes from the URL only (/es/...; English unprefixed), so a
    # page's address always names its language and caches need no Vary.
    "core.http_cache.UrlLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whether the session has passed the second factor; then the admin's door.
    "django_otp.middleware.OTPMiddleware",
    "staff.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "peru_campaign.middleware.DocumentCSPMiddleware",
    # After the header middleware, before anything reads the form.
    "peru_campaign.middleware.FormInputGuardMiddleware",
    # Last, as django-axes asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "peru_campaign.urls"
WSGI_APPLICATION = "peru_campaign.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
                "petitions.context_processors.site_banners",
            ],
        },
    }
]

# ------------------------------------------------------------------------------
# Database: PostgreSQL only. Without DATABASE_URL the project-local cluster that
# scripts/localdb.sh starts is used, over its Unix socket.
# ------------------------------------------------------------------------------
# LOCALDB_DIR: another cluster of scripts/localdb.sh (make faults has its own).
LOCAL_DB_DIR = Path(env.str("LOCALDB_DIR", default=str(BASE_DIR / ".pgdata")))
LOCAL_DB_SOCKET_DIR = LOCAL_DB_DIR / "run"
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env.str("LOCALDB_NAME", default="peru_campaign"),
            "USER": "peru",
            "HOST": str(LOCAL_DB_SOCKET_DIR),
        }
    }
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", 60))
# Off by default: the check costs a database round trip on every request.
# Without it a connection broken by a
# database restart fails one request (the friendly 503), is then closed by
# Django, and the next request reconnects: the site still recovers by itself.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool(
    "DJANGO_CONN_HEALTH_CHECKS", default=False
)
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# Server-side parameter binding lets psycopg prepare the statements a
# connection repeats: the petition page's short queries and the sign POST's
# one statement spend much of their time in the planner, which a prepared
# statement plans once.
# Django turns preparing off unless prepare_threshold is set: psycopg then
# prepares a statement on its 5th run on a connection (keeping the last 100).
# A pooler in transaction mode needs PgBouncer >= 1.21 with
# max_prepared_statements set, or DJANGO_DB_PREPARE_THRESHOLD= (empty: off).
DATABASES["default"]["OPTIONS"].setdefault(
    "server_side_binding", env.bool("DJANGO_DB_SERVER_SIDE_BINDING", default=True)
)
DATABASES["default"]["OPTIONS"].setdefault(
    "prepare_threshold",
    env.int("DJANGO_DB_PREPARE_THRESHOLD", default=5)
    if env.str("DJANGO_DB_PREPARE_THRESHOLD", default="5")
    else None,
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every process and host: the database cache, never process memory.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
    }
}

# ------------------------------------------------------------------------------
# Authentication and the admin
# ------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}", "OPTIONS": options}
    for name, options in (
        ("UserAttributeSimilarityValidator", {}),
        # Staff passwords guard signers' names: twelve characters at least.
        ("MinimumLengthValidator", {"min_length": 12}),
        ("CommonPasswordValidator", {}),
        ("NumericPasswordValidator", {}),
    )
]
# The second factor (staff/): the name authenticator apps and passkey prompts
# show for this site. Neutral by default, because a phone's list of accounts
# can be seen by whoever holds the phone.
STAFF_OTP_ISSUER = env.str("STAFF_OTP_ISSUER", default="Campaign admin")
OTP_TOTP_ISSUER = OTP_WEBAUTHN_RP_NAME = STAFF_OTP_ISSUER
# Passkeys belong to the site's own host name and work only from its origin.
# WebAuthn refuses an IP address: in development they work at localhost.
_site = urlsplit(SITE_URL)
if _site.hostname in {"127.0.0.1", "::1"}:
    _site = _site._replace(netloc=f"localhost:{_site.port}")
OTP_WEBAUTHN_RP_ID = _site.hostname
OTP_WEBAUTHN_ALLOWED_ORIGINS = [_site.geturl()]
# A passkey is the second factor after the password, never instead of it.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# Password guessing: an hour's lock once the failures counted for an address
# (across usernames), for a username (across addresses) or for the pair reach
# AXES_FAILURE_LIMIT. django-axes compares one limit with the largest of the
# three counts; it has no per-parameter limits. The per-username lock means
# anyone who knows a staff username can lock that person out for an hour
# (README.md, "Staff log-in"); ten failures leaves room for honest typos while
# a guesser still gets only ten tries an hour at any account.
# Attempts are kept in PostgreSQL, so the limit holds across hosts.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username", ["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip_for_axes"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "peru_campaign.views.csrf_failure"
# Public pages carry no CSRF token: their forms are protected by the browser's
# Fetch Metadata instead (core.fetch_metadata). Staff pages keep the token.
# How long caches (nginx, a CDN, browsers) may share a public page, in
# seconds; the freshness promise (a new signature shows within 2 s) bounds it.
# 0 turns shared caching off.
PUBLIC_CACHE_SECONDS = env.int("PUBLIC_CACHE_SECONDS", default=1)
# How long gunicorn reuses one rendering of the home and petition pages
# (in the shared database cache), so it survives a surge without nginx too.
# A change shows within PAGE_CACHE_SECONDS + PUBLIC_CACHE_SECONDS.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=PUBLIC_CACHE_SECONDS)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Only the admin shows messages, to staff, who have a session. The default
# (cookie, then session) built a signed-cookie store on every request,
# the sign POST's too, and could put a message in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Number of reverse proxies in front of gunicorn that append to X-Forwarded-For.
# 0 means the client address is REMOTE_ADDR and the header is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# ------------------------------------------------------------------------------
# Petitions
# ------------------------------------------------------------------------------
# Sign attempts per client IP: a short burst and a sustained limit. Generous,
# because a rally or a campus can put many signers behind one address.
SIGN_RATE_BURST = env.int("SIGN_RATE_BURST", default=20)
SIGN_RATE_BURST_SECONDS = env.int("SIGN_RATE_BURST_SECONDS", default=60)
SIGN_RATE_SUSTAINED = env.int("SIGN_RATE_SUSTAINED", default=200)
SIGN_RATE_SUSTAINED_SECONDS = env.int("SIGN_RATE_SUSTAINED_SECONDS", default=3600)
# Confirmation e-mails to one mailbox (all its +tags, at any domain) per
# window, whatever the form; past it the request is taken but not e-mailed.
MAILBOX_EMAIL_LIMIT = env.int("MAILBOX_EMAIL_LIMIT", default=8)
MAILBOX_EMAIL_WINDOW_SECONDS = env.int("MAILBOX_EMAIL_WINDOW_SECONDS", default=86400)
# Key for the hash of signers' IP addresses (never stored in clear). Defaults
# to one derived from the secret key; set it to keep hashes stable across a
# secret-key rotation.
IP_HASH_KEY = env.str(
    "IP_HASH_KEY", default=hashlib.sha256(f"ip-hash:{SECRET_KEY}".encode()).hexdigest()
).encode()
# Keys that encrypt supporters' names, e-mails and postcodes (core.encryption),
# held outside the database: comma-separated, the current key first, older
# ones kept until `rotate_signer_data_key` has re-encrypted their rows.
# Development derives a fixed one from the secret key.
SIGNER_DATA_KEY = _required_in_production(
    "SIGNER_DATA_KEY",
    [
        base64.urlsafe_b64encode(
            hashlib.sha256(f"signer-data:{SECRET_KEY}".encode()).digest()
        ).decode()
    ],
    list,
)
# The version of the consent wording on the sign form; bump it when it changes.
SIGNATURE_CONSENT_VERSION = "2026-12-v3"
# How long a confirmation link works, and how many repeat e-mails one address
# can trigger by signing again.
SIGNATURE_CONFIRM_MAX_AGE_DAYS = env.int("SIGNATURE_CONFIRM_MAX_AGE_DAYS", default=30)
SIGNATURE_MAX_REPEAT_EMAILS = 3
# How long the link to a supporter's own page (in every e-mail's footer, and
# sent by the request form) works; an expired one says how to get another.
SUPPORTER_LINK_MAX_AGE_DAYS = env.int("SUPPORTER_LINK_MAX_AGE_DAYS", default=30)
# The signers' e-mail outbox (petitions.outbox): rows claimed per batch, how
# long a claim holds before another worker may take it over (longer than a
# batch takes to send), and how often an idle worker looks for due rows.
SIGNATURE_EMAIL_BATCH_SIZE = env.int("SIGNATURE_EMAIL_BATCH_SIZE", default=50)
SIGNATURE_EMAIL_LEASE_SECONDS = env.int("SIGNATURE_EMAIL_LEASE_SECONDS", default=30)
SIGNATURE_EMAIL_POLL_SECONDS = env.float("SIGNATURE_EMAIL_POLL_SECONDS", default=0.2)
# The operators' Prometheus metrics (/metrics) answer only a bearer header with
# this token; without one the address does not exist (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Fraud watch (organising.fraud): e-mail organisers when one IP hash or e-mail
# domain brings this many signatures to a petition within an hour; a bulk
# invalidation can be undone for this many days.
FRAUD_ALERT_THRESHOLD = env.int("FRAUD_ALERT_THRESHOLD", default=50)
BULK_INVALIDATION_UNDO_DAYS = env.int("BULK_INVALIDATION_UNDO_DAYS", default=7)
# Unconfirmed signatures are deleted after this many days, and signers'
# personal data this many months after their petition closed (the privacy
# notice says so: change both together). organising.services.retention_run.
SIGNATURE_PENDING_RETENTION_DAYS = 30
SIGNATURE_RETENTION_MONTHS = 6

# ------------------------------------------------------------------------------
# Security headers and HTTPS
# ------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The site uses none of these; turned off, no page (nor anything injected into
# one) can ask a supporter's browser for them.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEVELOPMENT)
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEVELOPMENT else 31536000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEVELOPMENT
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health check is polled by load balancers over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Only our own origin: no CDN, fonts, analytics or inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    }
}
# Who may frame the embeddable sign widget (/embed/...), and only it: CSP
# frame-ancestors sources, e.g. "https://partner.example". "*" lets any site.
WIDGET_FRAME_ANCESTORS = env.list("WIDGET_FRAME_ANCESTORS", default=["*"])

# ------------------------------------------------------------------------------
# Internationalisation
# ------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
# Campaign content (pages, petition, news, reports) is kept in both languages
# by django-modeltranslation; a Spanish field left empty shows the English text
# (its default fallback, LANGUAGE_CODE), marked as untranslated on the page.
# The admin fills a new slug from the English title.
MODELTRANSLATION_PREPOPULATE_LANGUAGE = "en"
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["peru_campaign.formats"]
# Where the campaign works: scheduling in the admin and per-day counts use it.
TIME_ZONE = env.str("TIME_ZONE", default="America/Lima")
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------------------
# Static files: WhiteNoise serves them from gunicorn, with hashed names.
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# ------------------------------------------------------------------------------
# E-mail, always sent by a background process: the signers' outbox
# (petitions.outbox) or the Procrastinate worker
# ------------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = (
        env.str("EMAIL_BACKEND", default="")
        or "django.core.mail.backends.console.EmailBackend"
    )
# Backends that deliver nothing. The console and file ones also write every
# address and working confirmation link to a log or disk: never in production.
NON_DELIVERING_EMAIL_BACKENDS = {
    f"django.core.mail.backends.{name}.EmailBackend"
    for name in ("console", "locmem", "dummy", "filebased")
}
if not DEVELOPMENT and EMAIL_BACKEND in NON_DELIVERING_EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        "EMAIL_URL must be set in production (DJANGO_ENV=production), or "
        f"EMAIL_BACKEND to one that delivers mail, not {EMAIL_BACKEND}. "
        "See docs/configuration.md."
    )
if env.str("EMAIL_FILE_PATH", default=""):
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default=f"{CAMPAIGN_ORGANISATION} <no-reply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background jobs: Procrastinate, on this same PostgreSQL (procrastinate_* tables).
# A worker beats every 5 s; one silent for 20 s is taken for dead, and the
# retry_stalled_jobs task (core/tasks.py, every 15 s) puts its jobs back in
# the queue, so work held by a crashed worker runs again within a minute.
# The worker polls for new jobs each second instead of LISTENing: its LISTEN
# connection does not survive a database restart (the worker stops), while
# its pool reconnects with back-off and rides out an outage of up to 30 s.
PROCRASTINATE_WORKER_DEFAULTS = {
    "update_heartbeat_interval": 5,
    "stalled_worker_timeout": 20,
    "listen_notify": False,
    "fetch_job_polling_interval": 1,
}

# ------------------------------------------------------------------------------
# Backups: pgBackRest (core/backups.py, docs/operations.md). With
# BACKUP_SCHEDULE the worker takes the first full backup, a weekly full and a
# daily differential one.
# ------------------------------------------------------------------------------
# Without DATABASE_URL, the configuration scripts/backup.sh renders for the
# local cluster (beside LOCALDB_DIR when that is set, as make faults does).
if env.str("DATABASE_URL", default=""):
    _pgbackrest_config_default = "/etc/pgbackrest/pgbackrest.conf"
elif env.str("LOCALDB_DIR", default=""):
    _pgbackrest_config_default = str(LOCAL_DB_DIR / "backup/pgbackrest/pgbackrest.conf")
else:
    _pgbackrest_config_default = str(BASE_DIR / "var/pgbackrest/pgbackrest.conf")
PGBACKREST_CONFIG = Path(
    env.str("PGBACKREST_CONFIG", default=_pgbackrest_config_default)
)
PGBACKREST_STANZA = env.str("PGBACKREST_STANZA", default="peru_campaign")
# Production's database usually has a host of its own, out of the worker's
# reach; there its timers take the backups (deploy/systemd/pgbackrest-*).
BACKUP_SCHEDULE = env.bool("BACKUP_SCHEDULE", default=DEVELOPMENT)

# ------------------------------------------------------------------------------
# Newsletter e-mail
# ------------------------------------------------------------------------------
# Messages per second across every worker, shared through PostgreSQL; set it to
# what the e-mail provider allows.
NEWSLETTER_RATE_PER_SECOND = env.float("NEWSLETTER_RATE_PER_SECOND", default=10.0)
# Messages one task claims and sends over one SMTP connection.
NEWSLETTER_BATCH_SIZE = env.int("NEWSLETTER_BATCH_SIZE", default=200)
# Batch tasks one send is split over, so several workers share it.
NEWSLETTER_PARALLEL_BATCHES = env.int("NEWSLETTER_PARALLEL_BATCHES", default=4)
# A message claimed longer ago than this by a worker that died is not resent
# blindly: see newsletters/delivery.py.
NEWSLETTER_LEASE_SECONDS = env.int("NEWSLETTER_LEASE_SECONDS", default=300)
# The version of the consent wording on the subscribe form.
NEWSLETTER_CONSENT_VERSION = "2026-12-v1"
# Bounce and complaint webhooks from the provider (django-anymail): the
# provider is given https://USER:PASSWORD@site/anymail/<esp>/tracking/.
ANYMAIL = {
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")
    or (f"dev:{SECRET_KEY[:16]}" if DEVELOPMENT else None),
}
if not ANYMAIL["WEBHOOK_SECRET"]:
    # Anymail refuses unauthenticated webhooks; so do we, in production.
    del ANYMAIL["WEBHOOK_SECRET"]

# ------------------------------------------------------------------------------
# Logging: no personal data is ever logged; requests are not logged by Django.
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # 404s and 4xx carry URLs with tokens; keep them out of the logs.
        "django.request": {"level": "ERROR"},
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        # Procrastinate logs every job's start and end and every schedule tick
        # (one every 15 s) at INFO; failures come at WARNING and ERROR.
        "procrastinate": {"level": "WARNING"},
    },
}
