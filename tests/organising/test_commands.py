import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from petitions import services
from petitions.models import Signature, SignatureCount
from tests.petitions.factories import SignatureFactory

pytestmark = pytest.mark.django_db


def test_reconcile_command_repairs_counts(petition, capsys):
    for signature in SignatureFactory.create_batch(3, petition=petition):
        services.signature_confirm(signature_id=signature.pk)
    SignatureCount.objects.update(count=0)
    call_command("reconcile_signature_counts", petition.slug)
    assert "3 confirmed (was 0)" in capsys.readouterr().out
    assert services.petition_signature_count(petition) == 3
    call_command("reconcile_signature_counts")
    assert "3 confirmed (unchanged)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No petition"):
        call_command("reconcile_signature_counts", "missing")


def test_purge_deletes_old_unconfirmed_signatures_only(petition, settings):
    old = timezone.now() - datetime.timedelta(
        days=settings.SIGNATURE_PENDING_RETENTION_DAYS + 1
    )
    stale = SignatureFactory(petition=petition, created_at=old)
    fresh = SignatureFactory(petition=petition)
    confirmed_old = SignatureFactory(petition=petition, created_at=old)
    services.signature_confirm(signature_id=confirmed_old.pk)
    call_command("purge_expired_data", "--dry-run", verbosity=0)
    assert Signature.objects.filter(pk=stale.pk).exists()
    call_command("purge_expired_data", verbosity=0)
    assert not Signature.objects.filter(pk=stale.pk).exists()
    assert Signature.objects.filter(pk__in=[fresh.pk, confirmed_old.pk]).count() == 2
