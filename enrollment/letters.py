"""The enrolment's letters, as builders that ``letters`` calls when rendering them
(``settings.LETTER_BUILDERS``): the code letters (creation, reactivation) and the notices that
an account was opened or reactivated, and a minor's code to each legal representative."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from dmp_portal.crypto.fields import is_destroyed
from enrollment import codes
from enrollment.models import Beneficiary, CodePurpose, RegistryRepresentative, RepresentativeLetter
from enrollment.postal import PostalAddress
from enrollment.services.codes import IssuedCode, issue_code
from enrollment.services.minors import is_minor, represents
from letters.models import Letter
from letters.rendering.content import LetterContent, NoticeContent, Sender
from letters.rendering.majority import render_majority_letter, render_majority_notice
from letters.rendering.page import page_count, render_creation_letter, render_notice_letter
from letters.rendering.representative import (
    RepresentativeLetterContent,
    render_representative_letter,
)
from letters.services import LetterVoid, RenderedLetter


def sender_from_settings() -> Sender:
    """The operator's details as the settings give them (public_pages.py and letter.py in
    dmp_portal/settings/)."""
    return Sender(
        name=settings.DMP_OPERATOR_NAME,
        address_lines=settings.DMP_OPERATOR_ADDRESS,
        phone=settings.DMP_OPERATOR_PHONE,
        phone_hours=settings.DMP_OPERATOR_PHONE_HOURS,
        email=settings.DMP_OPERATOR_EMAIL,
        dpo_contact=settings.DMP_DPO_CONTACT,
        place=settings.DMP_LETTER_PLACE,
        signatory=settings.DMP_LETTER_SIGNATORY,
        retention=settings.DMP_LETTER_RETENTION,
    )


def build_creation_letter(letter: Letter) -> RenderedLetter:
    """Issue a creation code and write the letter that carries it."""
    return _build_code_letter(letter, CodePurpose.CREATION)


def build_reactivation_letter(letter: Letter) -> RenderedLetter:
    """Issue a reactivation code (the record exists) and write the letter that carries it."""
    return _build_code_letter(letter, CodePurpose.REACTIVATION)


def _locked_recipient(letter: Letter) -> Beneficiary:
    beneficiary = (
        Beneficiary.objects.select_for_update()
        .select_related("data_key")
        .get(uid=letter.subject_uid)
    )
    if is_destroyed(beneficiary.address):
        raise LetterVoid("the recipient's data was destroyed")
    return beneficiary


def _build_code_letter(letter: Letter, purpose: str) -> RenderedLetter:
    """Issue the code and write the letter that carries it, in the rendering transaction: if
    rendering fails, neither the code nor the letter remains."""
    beneficiary = _locked_recipient(letter)
    if (beneficiary.patient_id is not None) != (purpose == CodePurpose.REACTIVATION):
        # Asked for before the record was opened (with an earlier code), rendered after: its
        # code could open nothing. Void rather than posted.
        raise LetterVoid("the record was opened since the letter was asked for")
    if beneficiary.opposed_at is not None:
        # The opposition voids waiting letters when it is recorded; this one slipped in
        # between (asked for by another path): no code ever goes to an opposed person.
        raise LetterVoid("the recipient opposed the creation of a record")
    if is_minor(beneficiary, timezone.localdate()):
        # A minor never gets a code of their own: their representatives get theirs (below).
        raise LetterVoid("the recipient is a minor")
    issued = issue_code(beneficiary, purpose)
    address = PostalAddress.from_json(beneficiary.address)
    pdf = render_creation_letter(
        _code_content(letter, issued, address, reactivation=purpose == CodePurpose.REACTIVATION)
    )
    return _rendered(pdf, address)


def build_opening_notice(letter: Letter) -> RenderedLetter:
    """The notice that the record was opened, on the day the letter was asked for."""
    return _build_notice(letter, reactivation=False)


def build_reactivation_notice(letter: Letter) -> RenderedLetter:
    """The notice that the account was reactivated, on the day the letter was asked for."""
    return _build_notice(letter, reactivation=True)


def _build_notice(
    letter: Letter,
    *,
    reactivation: bool,
    render: Callable[[NoticeContent], bytes] = render_notice_letter,
) -> RenderedLetter:
    """A notice of an opening (``render``: the reactivation's and creation's page, or the
    takeover's at 18), on the day the letter was asked for."""
    beneficiary = _locked_recipient(letter)
    address = PostalAddress.from_json(beneficiary.address)
    pdf = render(
        NoticeContent(
            reference=letter.reference,
            issued_on=timezone.localdate(),
            address_lines=address.lines,
            # Asked for in the transaction of the opening itself (services.notices).
            opened_on=timezone.localdate(letter.requested_at),
            reactivation=reactivation,
            portal_address=urlsplit(settings.DMP_SITE_URL).netloc,
            sender=sender_from_settings(),
        )
    )
    return _rendered(pdf, address)


def _code_content(
    letter: Letter, issued: IssuedCode, address: PostalAddress, *, reactivation: bool = False
) -> LetterContent:
    """What every code letter says of its code (creation, reactivation, a minor's for one
    representative, a takeover at 18): the code, its dates, where to use it, the sender."""
    return LetterContent(
        reference=letter.reference,
        issued_on=issued.issued_on,
        address_lines=address.lines,
        creation_code=codes.grouped(issued.code),
        expires_on=issued.expires_on,
        activate_url=settings.DMP_SITE_URL + reverse("enrollment:activate"),
        request_url=settings.DMP_SITE_URL + reverse("enrollment:request"),
        portal_address=urlsplit(settings.DMP_SITE_URL).netloc,
        sender=sender_from_settings(),
        previous_code_blocked_on=issued.previous_blocked_on,
        previous_code_tried_on=issued.previous_tried_on,
        reactivation=reactivation,
    )


def _rendered(pdf: bytes, address: PostalAddress) -> RenderedLetter:
    return RenderedLetter(
        pdf=pdf,
        page_count=page_count(pdf),
        postal={"postcode": address.postcode, "city": address.city, "country": address.country},
    )


def build_representative_letter(letter: Letter) -> RenderedLetter:
    """Issue a minor's code for one legal representative (``RepresentativeLetter``) and write
    the letter that carries it, to the child's address, addressed to that representative. Void
    when it could no longer be used: the child came of age or opposed, the registry no longer
    links that representative, or they already represent the child."""
    child = _locked_recipient(letter)
    link = (
        RepresentativeLetter.objects.select_related("representative__data_key")
        .filter(letter=letter)
        .first()
    )
    now = timezone.now()
    if link is None or is_destroyed(link.representative.last_name):
        raise LetterVoid("the representative is no longer in the registry")
    representative = link.representative
    if child.opposed_at is not None or not is_minor(child, timezone.localdate(now)):
        raise LetterVoid("the child opposed or came of age")
    linked = RegistryRepresentative.objects.filter(child=child, representative=representative)
    if not linked.exists() or represents(child, representative, now):
        raise LetterVoid("the registry no longer links them, or the code was used")
    issued = issue_code(child, CodePurpose.REPRESENTATION, representative=representative)
    address = PostalAddress.from_json(child.address)
    pdf = render_representative_letter(
        RepresentativeLetterContent(
            base=_code_content(letter, issued, address),
            representative_name=f"{representative.first_name} {representative.last_name}",
            child_name=f"{child.first_name} {child.last_name}",
            child_born_on=date.fromisoformat(child.birth_date),
        )
    )
    return _rendered(pdf, address)


# --- Issue 17, item 5: coming of age (services.majority) -----------------------------------


def build_majority_letter(letter: Letter) -> RenderedLetter:
    """Issue the young adult's takeover code and write the letter that carries it, to their
    Vitale address in their own name (the registry's address lines), in the rendering
    transaction."""
    beneficiary = _locked_recipient(letter)
    account = beneficiary.patient
    if account is None or not account.is_active:
        # Nothing to take over: the record was purged or closed for good meanwhile.
        raise LetterVoid("the record cannot be taken over")
    issued = issue_code(beneficiary, CodePurpose.MAJORITY)
    address = PostalAddress.from_json(beneficiary.address)
    pdf = render_majority_letter(_code_content(letter, issued, address))
    return _rendered(pdf, address)


def build_majority_notice(letter: Letter) -> RenderedLetter:
    """The notice that the record was taken over, on the day the letter was asked for."""
    return _build_notice(letter, reactivation=False, render=render_majority_notice)
