"""Paper and street signatures: batches entered by organisers, counted in the total.

Each batch adds its count to the petition's running count rows
(petitions_signaturecount) in the same transaction as the batch itself, so
the petition page, the home page and the JSON show it in the total with no
extra query; `signature_counts_reconcile` below rebuilds the rows from the
confirmed signatures plus the batches. Every write leaves a PaperBatchChange
with the figures before and after.
"""

from django.db import connection, transaction
from django.utils import timezone

from petitions import services
from petitions.models import Petition

from .models import PaperBatch, PaperBatchChange


def _snapshot(batch: PaperBatch) -> dict:
    return {
        "country": str(batch.country or ""),
        "count": batch.count,
        "collected_on": batch.collected_on.isoformat() if batch.collected_on else None,
        "collected_by": batch.collected_by,
        "note": batch.note,
        "names": batch.names,
    }


def _audit(*, batch, action, user, before, after, now) -> PaperBatchChange:
    return PaperBatchChange.objects.create(
        petition_id=batch.petition_id,
        batch_id=batch.pk,
        action=action,
        user=user,
        user_name=user.get_username() if user is not None else "command line",
        at=now,
        before=before,
        after=after,
    )


@transaction.atomic
def paper_batch_save(*, batch: PaperBatch, user=None, now=None) -> PaperBatch:
    """Create or change a batch, move the counts by the difference, and audit it.

    Raises ValidationError (from the model's checks) for a bad batch.
    """
    now = now or timezone.now()
    batch.full_clean()
    before = None
    if batch.pk:
        old = PaperBatch.objects.select_for_update().get(pk=batch.pk)
        before = _snapshot(old)
        if before == _snapshot(batch) and old.petition_id == batch.petition_id:
            return batch
        services.petition_count_add(
            petition_id=old.petition_id, country=old.country, delta=-old.count
        )
    else:
        batch.created_by = user
        batch.created_at = now
    batch.updated_by = user
    batch.updated_at = now
    batch.save()
    services.petition_count_add(
        petition_id=batch.petition_id, country=batch.country, delta=batch.count
    )
    _audit(
        batch=batch,
        action=(
            PaperBatchChange.Action.CHANGED
            if before
            else PaperBatchChange.Action.CREATED
        ),
        user=user,
        before=before,
        after=_snapshot(batch),
        now=now,
    )
    return batch


@transaction.atomic
def paper_batch_delete(*, batch: PaperBatch, user=None, now=None) -> None:
    """Delete a batch, take its count out of the total, and audit it."""
    now = now or timezone.now()
    old = PaperBatch.objects.select_for_update().filter(pk=batch.pk).first()
    if old is None:
        return
    services.petition_count_add(
        petition_id=old.petition_id, country=old.country, delta=-old.count
    )
    _audit(
        batch=old,
        action=PaperBatchChange.Action.DELETED,
        user=user,
        before=_snapshot(old),
        after=None,
        now=now,
    )
    old.delete()


def paper_counts_by_country(petition: Petition) -> dict[str, int]:
    """Paper signatures per country code, for rebuilding the count rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT country, SUM(count) FROM {PaperBatch._meta.db_table} "
            "WHERE petition_id = %s GROUP BY country",
            [petition.pk],
        )
        return {country: int(total) for country, total in cursor.fetchall()}


def signature_counts_reconcile(*, petition: Petition) -> tuple[int, int]:
    """Rebuild a petition's count rows from its confirmed signatures and its
    paper batches; returns the total before and after. The one to call: the
    petitions app's rebuild knows nothing of paper unless told."""
    return services.signature_counts_reconcile(
        petition=petition,
        read_paper_counts=paper_counts_by_country,
    )


@transaction.atomic
def paper_batch_names_delete(*, closed_before, dry_run: bool = False) -> int:
    """Delete the names written on paper batches of petitions closed before
    `closed_before`, with the copies in their audit trail, as the privacy
    notice promises for every signer; the counts stay. Returns the number of
    batches whose names were (or, with `dry_run`, would be) deleted."""
    petitions = services.petitions_closed_before(closed_before)
    batches = PaperBatch.objects.filter(petition__in=petitions).exclude(names="")
    if dry_run:
        return batches.count()
    number = batches.update(names="")
    changes = PaperBatchChange.objects.filter(petition__in=petitions)
    for change in changes.only("before", "after"):
        snapshots = [s for s in (change.before, change.after) if s and s.get("names")]
        for snapshot in snapshots:
            snapshot["names"] = ""
        if snapshots:
            change.save(update_fields=["before", "after"])
    return number
