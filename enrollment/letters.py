"""The creation-code letter: the builder that ``letters`` calls when rendering it."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from dmp_portal.crypto.fields import is_destroyed
from enrollment import codes
from enrollment.models import Beneficiary
from enrollment.postal import PostalAddress
from enrollment.services.codes import issue_code
from letters.models import Letter
from letters.rendering.content import LetterContent, Sender
from letters.rendering.page import page_count, render_creation_letter
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
    """Issue the code and write the letter that carries it, in the rendering transaction: if
    rendering fails, neither the code nor the letter remains."""
    beneficiary = (
        Beneficiary.objects.select_for_update()
        .select_related("data_key")
        .get(uid=letter.subject_uid)
    )
    if is_destroyed(beneficiary.address):
        raise LetterVoid("the recipient's data was destroyed")
    issued = issue_code(beneficiary)
    address = PostalAddress.from_json(beneficiary.address)
    pdf = render_creation_letter(
        LetterContent(
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
        )
    )
    return RenderedLetter(
        pdf=pdf,
        page_count=page_count(pdf),
        postal={"postcode": address.postcode, "city": address.city, "country": address.country},
    )
