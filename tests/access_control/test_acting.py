"""Acting for someone (issue 17, item 3): the switch at ``/access/acting/``, the banner naming
whose record every page is, and the record pages acting on the chosen record through the door
(``acting_for=True`` for the chosen owner only), re-checked on every request."""

from __future__ import annotations

import html
import io
import re
import uuid
from datetime import date, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from access_control import acting, policy
from access_control.decisions import Decision
from access_control.models import (
    Block,
    CaregiverGrant,
    ClosureReason,
    Consent,
    LegalRepresentation,
    RecordClosure,
    RepresentationEndReason,
)
from audit.models import Action, AuditEvent, Mode, Outcome
from records.models import Category, Document, DocumentStatus
from records.services import upload_document
from tests.access_control.factories import practitioner_with_login
from tests.accounts.factories import PractitionerProfileFactory
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document, patient_with_login, pdf_upload

pytestmark = pytest.mark.django_db

SWITCH = "/access/acting/"


def named(first_name: str, last_name: str):
    """A patient with a registry row (their name) and a client past both factors."""
    patient, client = patient_with_login()
    person = make_beneficiary(first_name=first_name, last_name=last_name)
    type(person).objects.filter(pk=person.pk).update(patient=patient)
    return patient, client


def give_grant(owner, caregiver, scope: str = "read") -> CaregiverGrant:
    return CaregiverGrant.objects.create(
        patient=owner,
        caregiver=caregiver,
        scope=scope,
        accepted_at=timezone.now(),
        until=timezone.localdate() + timedelta(days=30),
    )


@pytest.fixture(params=["read", "manage", "representative"])
def tie(request):
    """The owner (with a document and a hidden one), a helper of each kind, signed in."""
    owner, owner_client = named("Léa", "Martin")
    helper, client = named("Paul", "Martin")
    if request.param == "representative":
        LegalRepresentation.objects.create(
            minor=owner, representative=helper, until=date(2100, 1, 1)
        )
    else:
        give_grant(owner, helper, request.param)
    document = add_document(owner, title="Bilan sanguin")
    hidden = add_document(owner, title="Consultation discrète")
    Document.objects.filter(pk=hidden.pk).update(hidden_from_practitioners=True)
    hidden.refresh_from_db()
    return request.param, owner, owner_client, helper, client, document, hidden


def switch(client, owner):
    return client.post(SWITCH, {"record": str(owner.pk)})


def events_of(person):
    return list(AuditEvent.objects.filter(actor=person).order_by("pk"))


# --- The switch --------------------------------------------------------------------------------


def test_the_switch_keeps_the_choice_in_the_session_never_in_the_address(tie):
    _kind, owner, _oc, _helper, client, document, _hidden = tie
    response = switch(client, owner)
    assert response.status_code == 302 and response["Location"] == "/records/"
    assert client.session[acting.SESSION_KEY] == str(owner.pk)
    page = client.get("/records/")
    html = page.content.decode()
    assert page.status_code == 200 and "Bilan sanguin" in html
    assert "Léa Martin" in html and 'data-testid="acting-banner"' in html
    assert str(owner.pk) not in page.request["PATH_INFO"]
    # Back to one's own record.
    assert client.post(SWITCH, {"record": "mine"}).status_code == 302
    assert acting.SESSION_KEY not in client.session
    assert "Bilan sanguin" not in client.get("/records/").content.decode()


@pytest.mark.parametrize("choice", ["stranger", "not-a-uuid", "", "unknown"])
def test_a_choice_outside_one_s_ties_is_404_and_changes_nothing(tie, choice):
    _kind, owner, _oc, helper, client, _document, _hidden = tie
    stranger, _ = patient_with_login()
    switch(client, owner)  # a choice made earlier stays as it was
    values = {
        "stranger": str(stranger.pk),
        "not-a-uuid": "x",
        "": "",
        "unknown": str(uuid.uuid4()),
    }
    response = client.post(SWITCH, {"record": values[choice]})
    assert response.status_code == 404
    assert client.session[acting.SESSION_KEY] == str(owner.pk)
    if choice == "stranger":  # the refusal is recorded on the stranger's record
        event = AuditEvent.objects.filter(actor=helper, patient=stranger).get()
        assert (event.action, event.outcome) == (Action.LIST, Outcome.REFUSED)


def test_a_third_user_cannot_switch_to_a_record_nor_read_it(tie):
    _kind, owner, _oc, _helper, _client, document, _hidden = tie
    third, third_client = named("Jean", "Tiers")
    before = Document.objects.count()
    assert third_client.post(SWITCH, {"record": str(owner.pk)}).status_code == 404
    assert acting.SESSION_KEY not in third_client.session
    assert "Bilan sanguin" not in third_client.get("/records/").content.decode()
    assert third_client.get(f"/records/{document.uid}/").status_code == 404
    assert Document.objects.count() == before
    refused = AuditEvent.objects.filter(actor=third, patient=owner, outcome=Outcome.REFUSED)
    assert refused.exists()


def test_the_switch_is_a_post_only(tie):
    _kind, owner, _oc, _helper, client, _document, _hidden = tie
    assert client.get(SWITCH, {"record": str(owner.pk)}).status_code == 405
    assert acting.SESSION_KEY not in client.session


def test_a_practitioner_has_no_switch(tie):
    _kind, owner, *_ = tie
    _profile, pro_client = practitioner_with_login()
    assert pro_client.post(SWITCH, {"record": str(owner.pk)}).status_code == 404


# --- Re-checked on every request ---------------------------------------------------------------


def end_tie(kind: str, owner, helper) -> None:
    if kind == "representative":
        LegalRepresentation.objects.filter(minor=owner, representative=helper).update(
            ended_at=timezone.now(), ended_reason=RepresentationEndReason.MAJORITY
        )
    else:
        CaregiverGrant.objects.filter(patient=owner, caregiver=helper).update(
            revoked_at=timezone.now(), revoked_reason="patient"
        )


@pytest.mark.parametrize("url", ["/records/", "/access/history/", "/summary/"])
def test_an_ended_tie_falls_back_to_one_s_own_record_on_the_next_request(tie, url):
    kind, owner, _oc, helper, client, document, _hidden = tie
    switch(client, owner)
    assert client.get(f"/records/{document.uid}/").status_code == 200
    end_tie(kind, owner, helper)
    response = client.get(url, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert acting.SESSION_KEY not in client.session
    assert str(acting.ended_message()).replace("'", "&#x27;") in html
    assert "Bilan sanguin" not in client.get("/records/").content.decode()
    assert client.get(f"/records/{document.uid}/").status_code == 404


def test_a_closed_record_ends_the_choice_too(tie):
    _kind, owner, _oc, _helper, client, document, _hidden = tie
    switch(client, owner)
    RecordClosure.objects.create(
        patient=owner, reason=ClosureReason.PATIENT, archive_until=timezone.localdate()
    )
    client.get("/records/")
    assert acting.SESSION_KEY not in client.session
    assert client.get(f"/records/{document.uid}/").status_code == 404


# --- The record pages, for the chosen owner only -----------------------------------------------


def test_the_document_page_and_download_are_read_and_recorded_in_the_helper_s_mode(tie):
    kind, owner, _oc, helper, client, document, _hidden = tie
    switch(client, owner)
    assert client.get(f"/records/{document.uid}/").status_code == 200
    assert client.get(f"/records/{document.uid}/download/").status_code == 200
    mode = Mode.REPRESENTATIVE if kind == "representative" else Mode.CAREGIVER
    reads = [e for e in events_of(helper) if e.action in (Action.VIEW, Action.DOWNLOAD)]
    assert [(e.action, e.patient_id, e.mode, e.outcome) for e in reads] == [
        (Action.VIEW, owner.pk, mode, Outcome.ALLOWED),
        (Action.DOWNLOAD, owner.pk, mode, Outcome.ALLOWED),
    ]


def test_a_hidden_document_is_never_shown_to_a_caregiver_but_to_a_representative(tie):
    kind, owner, _oc, _helper, client, _document, hidden = tie
    switch(client, owner)
    listing = client.get("/records/").content.decode()
    page = client.get(f"/records/{hidden.uid}/")
    if kind == "representative":
        assert "Consultation discrète" in listing and page.status_code == 200
    else:
        assert "Consultation discrète" not in listing and page.status_code == 404


def test_another_person_s_document_stays_refused_while_acting(tie):
    _kind, owner, _oc, helper, client, _document, _hidden = tie
    other, _ = patient_with_login()
    LegalRepresentation.objects.create(  # tied, not chosen
        minor=other, representative=helper, until=date(2100, 1, 1)
    )
    theirs = add_document(other, title="Autre dossier")
    switch(client, owner)
    for route in ("", "content/", "download/"):
        assert client.get(f"/records/{theirs.uid}/{route}").status_code == 404
    event = AuditEvent.objects.filter(actor=helper, patient=other).latest("pk")
    assert (event.outcome, event.reason, event.mode) == (
        Outcome.REFUSED,
        "not-own-record",
        Mode.NORMAL,
    )


def test_the_owner_s_controls_follow_the_door(tie):
    kind, owner, _oc, _helper, client, document, _hidden = tie
    switch(client, owner)
    html = client.get(f"/records/{document.uid}/").content.decode()
    offered = f"/records/{document.uid}/hide/" in html
    assert offered == (kind == "representative")
    assert (f"/records/{document.uid}/delete/" in html) == (kind == "representative")
    assert f"/records/{document.uid}/replace/" not in html  # a new version: the owner's page
    response = client.post(f"/records/{document.uid}/hide/")
    document.refresh_from_db()
    if kind == "representative":
        assert response.status_code == 302 and document.hidden_from_practitioners
    else:
        assert response.status_code == 404 and not document.hidden_from_practitioners
    response = client.post(f"/records/{document.uid}/delete/")
    document.refresh_from_db()
    deleted = document.status == DocumentStatus.DELETED
    assert deleted == (kind == "representative")


def test_forbidden_actions_are_not_offered_to_a_helper(tie):
    _kind, owner, _oc, _helper, client, _document, _hidden = tie
    switch(client, owner)
    html = client.get("/records/").content.decode()
    assert "/records/export/" not in html and "/records/close/" not in html
    # The export and the closure stay on one's own record, whatever the switch says.
    assert client.get("/records/export/").status_code in (200, 302)
    assert not AuditEvent.objects.filter(patient=owner, action=Action.EXPORT).exists()


def test_the_menu_offers_adding_a_document_only_where_the_door_allows_it(tie):
    kind, owner, _oc, _helper, client, _document, _hidden = tie
    menu_link = '<li><a href="/records/upload/"'
    assert menu_link in client.get("/records/").content.decode()  # one's own record
    switch(client, owner)
    assert (menu_link in client.get("/records/").content.decode()) is (kind != "read")
    assert (client.get("/records/upload/").status_code == 200) is (kind != "read")


def drawn_for(owner) -> dict[str, str]:
    """The hidden field of a form drawn while acting for ``owner`` (acting.FORM_FIELD)."""
    return {acting.FORM_FIELD: str(owner.pk)}


def upload(client, title: str = "Ordonnance", owner=None):
    return client.post(
        "/records/upload/",
        {
            "title": title,
            "category": "imagerie",
            "act_date": "12/03/2026",
            "file": pdf_upload(),
            **(drawn_for(owner) if owner is not None else {}),
        },
    )


def test_upload_as_the_door_allows_authored_by_the_owner(tie):
    kind, owner, owner_client, helper, client, _document, _hidden = tie
    switch(client, owner)
    before = Document.objects.count()
    page = client.get("/records/upload/")
    response = upload(client, owner=owner)
    if kind == "read":
        assert page.status_code == 404 and response.status_code == 404
        assert Document.objects.count() == before
        # Not offered on the page (the menu keeps its entry: the page it opens refuses).
        assert (
            'class="button" href="/records/upload/"' not in client.get("/records/").content.decode()
        )
        return
    assert page.status_code == 200 and response.status_code == 302
    added = Document.objects.exclude(pk__lte=_document.pk).exclude(pk=_hidden.pk).get()
    # Authored by the owner: the owner (and a representative) may delete it or add a version.
    assert added.patient_id == owner.pk and added.author_id == owner.pk
    assert added.authored_by_patient
    event = AuditEvent.objects.get(action=Action.UPLOAD, document_uid=added.uid)
    mode = Mode.REPRESENTATIVE if kind == "representative" else Mode.CAREGIVER
    assert (event.actor_id, event.patient_id, event.mode) == (helper.pk, owner.pk, mode)
    assert owner_client.post(f"/records/{added.uid}/delete/").status_code == 302
    added.refresh_from_db()
    assert added.status == DocumentStatus.DELETED


def test_the_upload_service_without_acting_for_refuses_a_helper(tie):
    _kind, owner, _oc, helper, _client, _document, _hidden = tie
    before = Document.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - DocumentNotFound, a 404 in a view
        upload_document(
            helper,
            owner,
            title="Sans le sélecteur",
            category=Category.objects.get(code="imagerie"),
            act_date=date(2026, 3, 12),
            upload=io.BytesIO(pdf_upload().read()),
        )
    assert Document.objects.count() == before


# --- The banner --------------------------------------------------------------------------------


def test_every_page_says_whose_record_it_is(tie):
    _kind, owner, _oc, _helper, client, _document, _hidden = tie
    own = client.get("/records/").content.decode()
    assert 'data-testid="acting-banner"' in own and 'value="mine" selected' in own
    switch(client, owner)
    for url in ("/records/", "/access/history/", "/summary/", "/access/settings/"):
        html = client.get(url).content.decode()
        assert 'data-testid="acting-banner"' in html and "Léa Martin" in html, url
        assert f'value="{owner.pk}" selected' in html, url


def test_no_banner_for_a_patient_who_helps_nobody():
    _patient, client = patient_with_login()
    assert 'data-testid="acting-banner"' not in client.get("/records/").content.decode()


def test_the_tie_list_is_one_s_own_and_live_only(tie):
    _kind, owner, _oc, helper, _client, _document, _hidden = tie
    stranger, _ = patient_with_login()
    give_grant(stranger, owner)  # someone else's grant: not the helper's
    pending = give_grant(stranger, helper)
    CaregiverGrant.objects.filter(pk=pending.pk).update(accepted_at=None)
    assert [t.owner for t in acting.ties_of(helper)] == [owner]
    assert [t.name for t in acting.ties_of(helper)] == ["Léa Martin"]


# --- The history, for a helper and for the owner (review findings 3 and 8) ---------------------


def test_a_helper_s_history_leaves_out_what_is_hidden_from_them_and_the_owner_s_account(tie):
    kind, owner, owner_client, helper, client, document, hidden = tie
    owner_client.get(f"/records/{hidden.uid}/")  # a line about the hidden document
    switch(client, owner)
    response = client.get("/access/history/")
    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    uids = {row.document_uid for row in rows}
    assert document.uid in uids  # its upload
    assert (hidden.uid in uids) == (kind == "representative")
    assert "Consultation discrète" not in response.content.decode() or kind == "representative"
    assert not {row.action for row in rows} & {"login", "login-password", "logout"}
    assert {row.who_kind for row in rows} <= {"owner", "helper", "patient", "unknown"}
    event = AuditEvent.objects.filter(actor=helper, action=Action.VIEW_HISTORY).latest("pk")
    mode = Mode.REPRESENTATIVE if kind == "representative" else Mode.CAREGIVER
    assert (event.patient_id, event.outcome, event.mode) == (owner.pk, Outcome.ALLOWED, mode)


def test_the_owner_s_history_names_the_helper_and_their_role(tie):
    kind, owner, owner_client, _helper, client, document, _hidden = tie
    switch(client, owner)
    client.get(f"/records/{document.uid}/")
    rows = owner_client.get("/access/history/").context["page"].object_list
    read = next(row for row in rows if row.action == Action.VIEW)
    assert (read.who_kind, read.who) == ("helper", "Paul Martin")
    assert read.profession == ("représentant légal" if kind == "representative" else "aidant")


def test_the_owner_s_history_names_a_former_helper_refused_after_the_tie_ended(tie):
    kind, owner, owner_client, helper, client, document, _hidden = tie
    end_tie("representative" if kind == "representative" else "caregiver", owner, helper)
    assert client.get(f"/records/{document.uid}/").status_code == 404
    _third, third_client = named("Jean", "Tiers")
    assert third_client.get(f"/records/{document.uid}/").status_code == 404
    rows = owner_client.get("/access/history/").context["page"].object_list
    refused = [row for row in rows if row.action == Action.VIEW and row.refused]
    assert {(row.who_kind, row.who, row.profession) for row in refused} == {
        ("helper", "Paul Martin", "représentant légal" if kind == "representative" else "aidant"),
        ("patient", "Un autre patient", ""),  # a third person: never named
    }


def test_the_switch_and_the_banner_follow_a_door_that_refuses_everything(tie):
    """The door alone decides (as tests/test_door_acceptance.py checks the other readers): with
    ``decide`` refusing everything, the switch refuses (recorded with the door's reason), and a
    choice made earlier names nobody any more."""
    _kind, owner, _oc, helper, client, document, _hidden = tie
    switch(client, owner)

    def refuse(actor, patient, action, document=None, mode=Mode.NORMAL, **_kwargs):
        return Decision(False, "refused-by-acting-test", mode)

    with mock.patch.object(policy, "decide", refuse):
        assert client.post(SWITCH, {"record": str(owner.pk)}).status_code == 404
        event = AuditEvent.objects.filter(actor=helper, patient=owner).latest("pk")
        assert (event.outcome, event.reason) == (Outcome.REFUSED, "refused-by-acting-test")
        page = client.get("/accounts/security/")
        assert page.status_code == 200 and acting.SESSION_KEY not in client.session
        assert "Léa Martin" not in page.content.decode()


# --- The consents page, for those the door lets manage them -------------------------------------


def test_the_consents_page_acts_for_the_owner_as_the_door_allows(tie):
    kind, owner, _oc, helper, client, _document, _hidden = tie
    profile = PractitionerProfileFactory()
    other = PractitionerProfileFactory()
    switch(client, owner)
    page = client.get("/access/")
    assert page.status_code == 200
    manages = kind in ("manage", "representative")
    assert (page.context["tie"] is not None) == manages
    assert ('action="/access/blocks/"' in page.content.decode()) == (kind != "manage")
    # Each form as the page draws it: a read-only caregiver's page is their own.
    drawn = drawn_for(owner) if manages else {acting.FORM_FIELD: acting.MINE}
    assert client.post("/access/", {"rpps": profile.rpps, **drawn}).status_code == 302
    granted = Consent.objects.filter(practitioner=profile.user).get()
    # A read-only caregiver's consents page is their own: the owner's consents are untouched.
    assert granted.patient_id == (owner.pk if manages else helper.pk)
    if manages:
        event = AuditEvent.objects.filter(action=Action.GRANT, actor=helper).latest("pk")
        mode = Mode.REPRESENTATIVE if kind == "representative" else Mode.CAREGIVER
        assert (event.patient_id, event.mode, event.outcome) == (owner.pk, mode, Outcome.ALLOWED)
        revoked = client.post(f"/access/consents/{granted.pk}/revoke/", drawn_for(owner))
        assert revoked.status_code == 302
        granted.refresh_from_db()
        assert granted.revoked_at is not None
    # Blocking: a representative only (a caregiver's try is refused, recorded, nothing blocked).
    client.post("/access/blocks/", {"block-rpps": other.rpps, **drawn_for(owner)})
    blocked = Block.objects.filter(practitioner=other.user)
    assert blocked.filter(patient=owner).exists() == (kind == "representative")
    if kind == "manage":
        refused = AuditEvent.objects.filter(action=Action.BLOCK, actor=helper).latest("pk")
        assert (refused.patient_id, refused.outcome) == (owner.pk, Outcome.REFUSED)


def test_a_third_user_changes_no_consent_of_the_owner(tie):
    _kind, owner, _oc, _helper, _client, _document, _hidden = tie
    profile = PractitionerProfileFactory()
    consent = Consent.objects.create(patient=owner, practitioner=profile.user)
    _third, third_client = named("Jean", "Tiers")
    assert third_client.post(SWITCH, {"record": str(owner.pk)}).status_code == 404
    third_client.post(f"/access/consents/{consent.pk}/revoke/")
    third_client.post("/access/", {"rpps": PractitionerProfileFactory().rpps})
    consent.refresh_from_db()
    assert consent.revoked_at is None
    assert list(Consent.objects.filter(patient=owner)) == [consent]


# --- A form drawn for one record never lands on another ----------------------------------------


def test_a_form_drawn_for_the_owner_and_sent_after_the_tie_ended_changes_nothing(tie):
    kind, owner, _oc, helper, client, _document, _hidden = tie
    switch(client, owner)
    assert client.get("/access/").status_code == 200  # the forms are drawn for the owner
    end_tie("representative" if kind == "representative" else "caregiver", owner, helper)
    profile = PractitionerProfileFactory()
    before = (Document.objects.count(), Consent.objects.count(), Block.objects.count())
    granted = client.post("/access/", {"rpps": profile.rpps, **drawn_for(owner)}, follow=True)
    uploaded = upload(client, owner=owner)
    client.post("/access/blocks/", {"block-rpps": profile.rpps, **drawn_for(owner)})
    # Nothing on the owner's record, nor on the helper's own, where the session now points.
    assert (Document.objects.count(), Consent.objects.count(), Block.objects.count()) == before
    assert "rien n'a été enregistré" in html.unescape(granted.content.decode())
    assert uploaded.status_code == 302


def test_a_form_drawn_for_one_s_own_record_and_sent_after_switching_elsewhere_changes_nothing(
    tie,
):
    kind, owner, _oc, helper, client, _document, _hidden = tie
    profile = PractitionerProfileFactory()
    own_page = client.get("/access/")  # drawn for one's own record: no field, or « mine »
    assert own_page.status_code == 200
    switch(client, owner)  # in another tab
    before = (Document.objects.count(), Consent.objects.count())
    client.post("/access/", {"rpps": profile.rpps, acting.FORM_FIELD: acting.MINE})
    upload(client, owner=None)
    if kind == "read":  # a read-only caregiver's consents page stays their own: it acts there
        assert Consent.objects.filter(patient=helper).count() == 1
        assert Document.objects.count() == before[0]
        Consent.objects.filter(patient=helper).delete()
    else:
        assert (Document.objects.count(), Consent.objects.count()) == before
    # Drawn for the owner and sent while still acting for them: it acts, as the door allows.
    client.post("/access/", {"rpps": profile.rpps, **drawn_for(owner)})
    assert Consent.objects.filter(patient=owner).exists() == (kind != "read")


def test_reading_the_owner_s_consents_page_is_recorded_in_the_helper_s_mode(tie):
    kind, owner, owner_client, helper, client, _document, _hidden = tie
    owner_client.get("/access/")  # the owner's own reading: not an access to anyone's record
    switch(client, owner)
    assert client.get("/access/").status_code == 200
    reads = AuditEvent.objects.filter(action=Action.VIEW_CONSENTS)
    if kind == "read":  # a read-only caregiver's consents page is their own
        assert not reads.exists()
        return
    event = reads.get()
    mode = Mode.REPRESENTATIVE if kind == "representative" else Mode.CAREGIVER
    assert (event.actor_id, event.patient_id, event.mode, event.outcome) == (
        helper.pk,
        owner.pk,
        mode,
        Outcome.ALLOWED,
    )
    # A third user's page is their own: nothing more on the owner's chain.
    _third, third_client = named("Jean", "Tiers")
    third_client.get("/access/")
    assert reads.count() == 1


POST_FORM = re.compile(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.S)


# The forms that change a record through the session's choice: the consents page's and the
# upload (the switch itself, the account's and the page chrome's forms act on no record).
def acts_on_the_chosen_record(action: str) -> bool:
    return (action.startswith("/access/") and action != "/access/acting/") or (
        action == "/records/upload/"
    )


def test_every_form_of_the_pages_that_follow_the_switch_says_whose_record_it_was_drawn_for(tie):
    kind, owner, _oc, _helper, client, _document, _hidden = tie
    Consent.objects.create(patient=owner, practitioner=PractitionerProfileFactory().user)
    switch(client, owner)
    pages = ["/records/", "/access/history/", "/access/"]
    if kind != "read":
        pages.append("/records/upload/")
    checked = 0
    for url in pages:
        for action, body in POST_FORM.findall(client.get(url).content.decode()):
            if not acts_on_the_chosen_record(action):
                continue
            drawn_for = re.search(rf'name="{acting.FORM_FIELD}" value="([^"]+)"', body)
            assert drawn_for is not None, (url, action)
            # A read-only caregiver's consents page is their own record's.
            own_page = url == "/access/" and kind == "read"
            assert drawn_for.group(1) == (acting.MINE if own_page else str(owner.pk))
            checked += 1
    assert checked >= (2 if kind == "read" else 4)  # grant, revoke, ... (and the upload)
