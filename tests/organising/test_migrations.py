"""The back office's move out of petitions keeps every grant (organising 0001),
and milestone notes keep their outcome as delivery rows (organising 0002).

These migrate the test database back to before the move and forward again,
as a production database that still has the models under petitions does.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from newsletters import delivery
from organising.models import MilestoneNote
from tests.petitions.factories import ConfirmedSignatureFactory, PetitionFactory

BEFORE_THE_MOVE = [("petitions", "0013_signature_fewer_indexes"), ("organising", None)]


def _migrate(targets=None):
    """Migrate to `targets` (the latest migrations if None); returns the
    historical models of the state reached."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    reached = [(app, name) for app, name in targets if name is not None]
    return MigrationExecutor(connection).loader.project_state(reached).apps


@pytest.fixture
def before_the_move(django_db_serialized_rollback, transactional_db):
    apps = _migrate(BEFORE_THE_MOVE)
    yield apps
    _migrate()


def _grant(apps, *, model, codename, group_name, username):
    """Give a group and a user a permission as the admin did before the move."""
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="petitions",
        content_type__model=model,
        codename=codename,
    )
    group = apps.get_model("auth", "Group").objects.create(name=group_name)
    group.permissions.add(permission)
    user = apps.get_model("auth", "User").objects.create(
        username=username, is_staff=True
    )
    user.user_permissions.add(permission)


def _after_the_move_user_may(username, permission):
    ContentType.objects.clear_cache()
    user = get_user_model().objects.get(username=username)
    return user.has_perm(permission)


def test_grants_given_before_the_move_hold_under_the_new_app_label(before_the_move):
    _grant(
        before_the_move,
        model="signatureexport",
        codename="view_dashboard",
        group_name="Press team",
        username="press@example.org",
    )

    _migrate()

    group = Group.objects.get(name="Press team")
    assert [
        (p.content_type.app_label, p.codename) for p in group.permissions.all()
    ] == [("organising", "view_dashboard")]
    assert _after_the_move_user_may("press@example.org", "organising.view_dashboard")
    assert not ContentType.objects.filter(
        app_label="petitions", model="signatureexport"
    ).exists()
    # The Organisers group, created by petitions' own migrations, too.
    organisers = Group.objects.get(name="Organisers")
    assert organisers.permissions.filter(
        content_type__app_label="organising", codename="add_paperbatch"
    ).exists()


def test_grants_move_onto_content_types_the_new_app_already_has(before_the_move):
    # As if a migrate run had created organising's rows early (post_migrate).
    _grant(
        before_the_move,
        model="paperbatch",
        codename="change_paperbatch",
        group_name="Street team",
        username="street@example.org",
    )
    early = before_the_move.get_model("contenttypes", "ContentType").objects.create(
        app_label="organising", model="paperbatch"
    )
    before_the_move.get_model("auth", "Permission").objects.create(
        content_type=early, codename="change_paperbatch", name="Can change paper batch"
    )

    _migrate()

    assert list(
        Permission.objects.filter(codename="change_paperbatch").values_list(
            "content_type__app_label", flat=True
        )
    ) == ["organising"]
    assert Group.objects.get(name="Street team").permissions.get().codename == (
        "change_paperbatch"
    )
    assert _after_the_move_user_may(
        "street@example.org", "organising.change_paperbatch"
    )
    assert ContentType.objects.filter(model="paperbatch").count() == 1


def test_going_back_before_the_move_gives_the_content_types_back(before_the_move):
    ContentType = before_the_move.get_model("contenttypes", "ContentType")
    assert ContentType.objects.filter(
        app_label="petitions", model="milestonenote"
    ).exists()
    assert not ContentType.objects.filter(app_label="organising").exists()


BEFORE_NOTES_WERE_DELIVERIES = [("organising", "0001_initial")]


@pytest.fixture
def notes_before_the_engine(django_db_serialized_rollback, transactional_db):
    apps = _migrate(BEFORE_NOTES_WERE_DELIVERIES)
    yield apps
    _migrate()


def test_existing_notes_keep_their_outcome_and_the_one_in_doubt_goes_again(
    notes_before_the_engine,
):
    apps = notes_before_the_engine
    petition = PetitionFactory()
    signatures = ConfirmedSignatureFactory.create_batch(3, petition=petition)
    milestone = apps.get_model("organising", "Milestone").objects.create(
        petition_id=petition.pk, goal=4
    )
    Note = apps.get_model("organising", "MilestoneNote")
    for signature, state in zip(signatures, ["sent", "failed", "sending"], strict=True):
        Note.objects.create(
            milestone=milestone,
            signature_id=signature.pk,
            state=state,
            last_error="SMTPDataError" if state == "failed" else "",
        )
    _migrate()
    notes = {
        note.signature_id: note
        for note in MilestoneNote.objects.filter(milestone_id=milestone.pk)
    }
    sent, failed, in_doubt = (notes[signature.pk] for signature in signatures)
    assert (sent.state, sent.retransmitted) == ("sent", 0)
    assert (failed.state, failed.last_error) == ("failed", "SMTPDataError")
    assert (in_doubt.state, in_doubt.retransmitted) == ("queued", 1)
    assert in_doubt.last_error == delivery.IN_DOUBT
    assert {note.attempts for note in notes.values()} == {1}
