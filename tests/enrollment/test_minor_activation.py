"""A child's code used on /enrollment/activate/ (issue 17, item 2): only by the representative
it names, logged into their own account. Not logged in: asked to log in, the code kept out of
the address; anyone else logged in: the one refusal of today, counted like a wrong try; the
first use creates the child's account (no login of its own), each representative's use their
own representation, recorded on the child's chain."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access_control import policy
from access_control.models import LegalRepresentation
from audit.models import SYSTEM_CHAIN_KEY, Action, AuditChain, AuditEvent, Mode
from enrollment.models import ActivationAttempts, Beneficiary, CreationCode
from enrollment.services.representatives import majority_day, representation_until
from tests.accounts.factories import StaffFactory, logged_in_client
from tests.enrollment.factories import REFUSAL, make_beneficiary
from tests.enrollment.minors_world import ask_for, child_of, code_for, parent
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db
URL = "/enrollment/activate/"
WRONG_CODE = "7K2Q-D9XW-4MHN"
# The answer when a checked code can no longer be used (as for an adult's code used meanwhile).
NO_LONGER = "Ce code ne peut plus être utilisé"
# What differs between two refusals: the CSRF token and the typed values echoed in the form.
ECHOED = re.compile(r'value="[^"]*"')


@pytest.fixture
def family(django_capture_on_commit_callbacks):
    mother, father = parent("Claire"), parent("Marc", "Bernard")
    child = child_of(mother, father)
    ask_for(child, django_capture_on_commit_callbacks)
    return mother, father, child


def use(client: Client, child: Beneficiary, code: str):
    return client.post(URL, {"nir": child.nir, "creation_code": code})


def nothing_created(child: Beneficiary) -> bool:
    child.refresh_from_db()
    return (
        child.patient_id is None
        and not LegalRepresentation.objects.exists()
        and not CreationCode.objects.filter(used_at__isnull=False).exists()
    )


def test_not_logged_in_is_asked_to_log_in_and_the_code_stays_out_of_the_address(family):
    mother, _father, child = family
    code = code_for(child, mother)
    response = use(Client(), child, code)
    assert response.status_code == 200  # no redirect: nothing goes into an address
    page = response.content.decode()
    assert "Connectez-vous d'abord" in page
    assert 'href="/accounts/login/?next=/enrollment/activate/"' in page
    assert code not in page and code.replace("-", "") not in page
    assert nothing_created(child)
    assert not ActivationAttempts.objects.exists()  # the right code: not a wrong try
    assert CreationCode.objects.filter(failed_attempts__gt=0).count() == 0


def test_the_representative_logged_in_opens_the_childs_record(family):
    mother, _father, child = family
    response = use(mother.client, child, code_for(child, mother))
    assert response.status_code == 200
    assert "Zoé Martin" in response.content.decode()
    child.refresh_from_db()
    account = child.patient
    assert account is not None and account.kind == "patient"
    assert not account.has_usable_password()  # the child has no login
    representation = LegalRepresentation.objects.get()
    assert representation.minor == account and representation.representative == mother.user
    assert representation.until == representation_until(child)
    assert representation.until == majority_day(child_born(child)) - timedelta(days=1)
    events = AuditEvent.objects.filter(patient=account).order_by("sequence")
    assert [(e.action, e.actor_id, e.mode) for e in events] == [
        (Action.ACTIVATE, mother.user.pk, Mode.REPRESENTATIVE),
        (Action.LINK_REPRESENTATIVE, mother.user.pk, Mode.REPRESENTATIVE),
    ]
    assert policy.decide(mother.user, account, Action.LIST, acting_for=True).allowed


def child_born(child: Beneficiary) -> date:
    return date.fromisoformat(child.birth_date)


def test_the_second_representative_links_themselves_with_their_own_letter(family):
    mother, father, child = family
    use(mother.client, child, code_for(child, mother))
    response = use(father.client, child, code_for(child, father))
    assert response.status_code == 200 and "Zoé Martin" in response.content.decode()
    child.refresh_from_db()
    assert Beneficiary.objects.filter(pk=child.pk, patient=child.patient).exists()
    pairs = set(LegalRepresentation.objects.values_list("minor_id", "representative_id"))
    assert pairs == {(child.patient_id, mother.user.pk), (child.patient_id, father.user.pk)}
    assert AuditEvent.objects.filter(patient=child.patient, action=Action.ACTIVATE).count() == 1
    # Each letter once: the mother's code cannot be used again, by her or anyone.
    again = use(mother.client, child, code_for(child, mother))
    assert REFUSAL in again.content.decode()


def _refusal_page(response) -> str:
    return ECHOED.sub("", response.content.decode())


def test_an_adult_who_is_not_the_representative_gets_the_one_refusal_and_it_counts(family):
    mother, _father, child = family
    code = code_for(child, mother)
    stranger, client = patient_with_login()
    Beneficiary.objects.filter(pk=make_beneficiary().pk).update(patient=stranger)
    right_code = use(client, child, code)
    wrong_code = use(client, child, WRONG_CODE)
    assert REFUSAL in right_code.content.decode()
    assert _refusal_page(right_code) == _refusal_page(wrong_code)
    assert ActivationAttempts.objects.get().failures == 2
    assert CreationCode.objects.get(representative=mother.row).failed_attempts == 2
    assert nothing_created(child)


def test_a_stranger_burns_the_code_like_wrong_tries(family):
    mother, _father, child = family
    code = code_for(child, mother)
    stranger, client = patient_with_login()
    for _try in range(settings.ENROLLMENT_CODE_MAX_FAILURES):
        ActivationAttempts.objects.all().delete()  # not slowed down: only the code's count
        use(client, child, code)
    assert CreationCode.objects.get(representative=mother.row).burned_at is not None
    ActivationAttempts.objects.all().delete()
    # Burned: even its representative cannot use it any more.
    assert REFUSAL in use(mother.client, child, code).content.decode()
    assert nothing_created(child)


def test_the_other_representatives_code_is_refused(family):
    mother, father, child = family
    response = use(father.client, child, code_for(child, mother))
    assert REFUSAL in response.content.decode()
    assert nothing_created(child)


def test_a_staff_member_logged_in_is_refused(family):
    mother, _father, child = family
    response = use(logged_in_client(StaffFactory.create()), child, code_for(child, mother))
    assert REFUSAL in response.content.decode()
    assert nothing_created(child)


def test_an_unknown_or_unrelated_code_is_refused(family):
    mother, _father, child = family
    assert REFUSAL in use(mother.client, child, WRONG_CODE).content.decode()
    other = child_of(parent("Anne", "Petit"))
    assert REFUSAL in use(mother.client, other, code_for(child, mother)).content.decode()
    assert nothing_created(child)


def test_a_code_for_a_child_who_came_of_age_is_refused(family):
    mother, _father, child = family
    code = code_for(child, mother)
    today = timezone.localdate()
    child.birth_date = today.replace(year=today.year - 18).isoformat()
    child.save()
    assert NO_LONGER in use(mother.client, child, code).content.decode()
    assert nothing_created(child)


def test_the_child_account_has_no_login(family):
    mother, _father, child = family
    use(mother.client, child, code_for(child, mother))
    child.refresh_from_db()
    login = Client().post("/accounts/login/", {"username": child.patient.username, "password": ""})
    assert login.status_code == 200 and "_auth_user_id" not in login.client.session


def _shape(sql: str) -> str:
    """The statement without its parameters (as tests/enrollment/test_activation_uniform.py)."""
    sql = re.sub(r'"s\d+_x\d+"', '"savepoint"', sql)
    return re.sub(r"\b\d+(\.\d+)?\b", "?", re.sub(r"'(?:[^']|'')*'", "?", sql))


def test_a_strangers_right_code_runs_the_statements_of_a_wrong_one(family):
    mother, _father, child = family
    code = code_for(child, mother)
    _stranger, client = patient_with_login()
    # The system chain exists on a running service (its first event creates it).
    AuditChain.objects.get_or_create(key=SYSTEM_CHAIN_KEY)
    shapes = []
    for typed in (code, WRONG_CODE):
        cache.clear()
        ActivationAttempts.objects.all().delete()
        CreationCode.objects.update(failed_attempts=0)
        with CaptureQueriesContext(connection) as captured:
            use(client, child, typed)
        shapes.append(
            [
                _shape(query["sql"])
                for query in captured.captured_queries
                if "django_session" not in query["sql"]
            ]
        )
    assert shapes[0] == shapes[1]


def test_the_page_tells_a_logged_in_representative_which_number_to_type(family):
    mother, _father, _child = family
    page = mother.client.get(URL).content.decode()
    assert "saisissez le numéro de sécurité sociale de l'enfant" in page
    assert "Connectez-vous d'abord" not in page
    assert (
        "Vous avez reçu un courrier en tant que représentant légal"
        in Client().get(URL).content.decode()
    )
