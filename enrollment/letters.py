"""The creation-code letter: the builder that ``letters`` calls when rendering it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from enrollment import codes
from enrollment.models import Beneficiary, CreationCode
from enrollment.postal import PostalAddress
from letters.models import Letter
from letters.rendering import LetterContent, page_count, render_creation_letter
from letters.services import RenderedLetter


def build_creation_letter(letter: Letter) -> RenderedLetter:
    """Create the code (only its hash is kept) and the letter that carries it.

    Runs inside the rendering transaction: a new code supersedes the person's older ones, and
    if rendering fails neither the code nor the letter remains.
    """
    beneficiary = (
        Beneficiary.objects.select_for_update()
        .select_related("data_key")
        .get(uid=letter.subject_uid)
    )
    now = timezone.now()
    CreationCode.objects.filter(
        beneficiary=beneficiary,
        used_at__isnull=True,
        superseded_at__isnull=True,
        burned_at__isnull=True,
    ).update(superseded_at=now)
    issued_on = timezone.localdate(now)
    expires_on = issued_on + timedelta(days=settings.ENROLLMENT_CODE_VALIDITY_DAYS)
    # Valid until the end of the printed day, in France's time zone.
    expires_at = timezone.make_aware(datetime.combine(expires_on + timedelta(days=1), time.min))
    code = codes.generate()
    CreationCode.objects.create(
        beneficiary=beneficiary,
        code_hash=codes.hash_code(code),
        created_at=now,
        expires_at=expires_at,
    )
    address = PostalAddress.from_json(beneficiary.address)
    pdf = render_creation_letter(
        LetterContent(
            reference=letter.reference,
            issued_on=issued_on,
            address_lines=address.lines,
            creation_code=codes.grouped(code),
            expires_on=expires_on,
            portal_url=settings.DMP_SITE_URL,
        )
    )
    return RenderedLetter(
        pdf=pdf,
        page_count=page_count(pdf),
        postal={"postcode": address.postcode, "city": address.city, "country": address.country},
    )
