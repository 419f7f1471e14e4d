"""Confirmed signers who asked for updates join the list as subscribers.

One subscriber per normalised address: the earliest confirmed signature that
asked for updates gives the language and consent recorded.
"""

from django.db import migrations

BACKFILL_SQL = """
    INSERT INTO newsletters_subscriber
        (email, email_normalised, language, source, status, consent_version,
         consent_language, created_at, confirmed_at, status_changed_at,
         confirm_emails_sent)
    SELECT DISTINCT ON (s.email_normalised)
           s.email, s.email_normalised, s.consent_language, 'signer', 'confirmed',
           s.consent_version, s.consent_language, s.confirmed_at, s.confirmed_at,
           s.confirmed_at, 0
    FROM petitions_signature s
    WHERE s.status = 'confirmed' AND s.wants_updates
      AND s.email_normalised IS NOT NULL
    ORDER BY s.email_normalised, s.confirmed_at
    ON CONFLICT (email_normalised) DO NOTHING
"""


class Migration(migrations.Migration):
    dependencies = [
        ("newsletters", "0004_mailing_list"),
        ("petitions", "0005_signature_source"),
    ]

    operations = [migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop)]
