"""``import_practitioners``: good rows imported, bad rows reported by line, invitations sent."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import ActivationLink, PractitionerProfile, User
from tests.accounts.factories import PractitionerProfileFactory

pytestmark = pytest.mark.django_db
HEADER = "rpps,last_name,first_name,profession,specialty,email\n"


def run_import(tmp_path, body: str, capture=None) -> str:
    path = tmp_path / "practitioners.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    out = StringIO()
    if capture is None:
        call_command("import_practitioners", str(path), stdout=out)
    else:
        with capture(execute=True):
            call_command("import_practitioners", str(path), stdout=out)
    return out.getvalue()


def test_bad_rows_are_reported_by_line_and_good_rows_imported(
    tmp_path, django_capture_on_commit_callbacks
):
    output = run_import(
        tmp_path,
        "10000000009,Martin,Claire,medecin,Médecine générale,claire.martin@example.fr\n"
        "12345,Court,Numéro,infirmier,,court@example.fr\n"
        "10000000008,Mauvaise,Clé,infirmier,,cle@example.fr\n"
        "10000000017,Durand,Paul,astronaute,,paul@example.fr\n"
        "10000000025,Petit,Léa,pharmacien,,pas-une-adresse\n"
        "10000000033,Bernard,Luc,masseur-kinesitherapeute,,luc.bernard@example.fr\n",
        capture=django_capture_on_commit_callbacks,
    )
    lines = output.strip().splitlines()
    assert lines[0] == "created=2 updated=0 rejected=4"
    assert lines[1].startswith("ligne 3 : rpps: Un numéro RPPS compte exactement 11 chiffres")
    assert lines[2].startswith("ligne 4 : rpps: ")
    assert lines[3].startswith("ligne 5 : profession: Profession inconnue « astronaute »")
    assert lines[4].startswith("ligne 6 : email: ")
    assert set(PractitionerProfile.objects.values_list("rpps", flat=True)) == {
        "10000000009",
        "10000000033",
    }
    # Each new practitioner gets one e-mail with a single-use activation link, not yet usable
    # for logging in.
    assert sorted(m.to[0] for m in mail.outbox) == [
        "claire.martin@example.fr",
        "luc.bernard@example.fr",
    ]
    assert "/accounts/activate/" in mail.outbox[0].body
    claire = User.objects.get(username="10000000009")
    assert not claire.is_active and not claire.has_usable_password()
    assert ActivationLink.objects.filter(user=claire, used_at__isnull=True).count() == 1


def test_existing_practitioners_are_updated_not_duplicated(tmp_path):
    profile = PractitionerProfileFactory(rpps="10000000009", last_name="Ancien")
    output = run_import(tmp_path, "10000000009,Martin,Claire,sage-femme,,nouvelle@example.fr\n")
    assert output.strip().splitlines()[0] == "created=0 updated=1 rejected=0"
    profile.refresh_from_db()
    assert (profile.last_name, profile.profession) == ("Martin", "sage-femme")
    assert profile.user.email == "nouvelle@example.fr"
    assert PractitionerProfile.objects.count() == 1
    assert mail.outbox == []


def test_a_file_without_the_expected_columns_changes_nothing(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("rpps;nom\n10000000009;Martin\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Colonnes manquantes"):
        call_command("import_practitioners", str(path))
    assert not PractitionerProfile.objects.exists()


def test_the_invitation_is_in_french_then_in_english(tmp_path, django_capture_on_commit_callbacks):
    """Before their first login the practitioner's language is unknown: one e-mail, French
    first, then English, with the same single-use link in both."""
    run_import(
        tmp_path,
        "10000000009,Martin,Claire,medecin,,claire.martin@example.fr\n",
        capture=django_capture_on_commit_callbacks,
    )
    [message] = mail.outbox
    assert message.subject == (
        "Activez votre compte sur le portail du dossier médical partagé"
        " / Activate your account on the shared medical record portal"
    )
    body = message.body
    assert body.startswith("English version below.\n")
    french = body.index("Bonjour,")
    english = body.index("Hello,")
    assert french < english
    assert "Ce lien ne fonctionne qu'une fois" in body[french:english]
    assert "This link works once" in body[english:]
    links = re.findall(r"https?://\S+/accounts/activate/[\w-]+/", body)
    assert len(links) == 2 and links[0] == links[1]
