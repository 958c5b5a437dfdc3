"""Steps the journeys share: logging in with both factors, computing codes as an app would."""

from __future__ import annotations

import base64
import io
import re
import time

from django_otp.oath import TOTP
from playwright.sync_api import Page, ViewportSize, expect
from reportlab.pdfgen.canvas import Canvas

from accounts.devices import TOTPDevice
from enrollment.models import Beneficiary
from letters.models import Letter
from tests.e2e.browser import (
    DESKTOP,
    Inspector,
    fill_by_keyboard,
    horizontal_overflow,
    next_document,
    tab_to,
)
from tests.letters.reading import code_from_letter

NARROWEST: ViewportSize = {"width": 320, "height": 640}  # the narrowest phone the pages must fit


def totp_from_secret(secret: str, username: str | None = None) -> str:
    """The code an authenticator app shows for the base32 secret the setup page printed.

    With ``username``, the next code the portal accepts for that person: a code works once,
    so after a login in the same half-minute the app's next one (as someone waiting for the
    code to change would type), from the step of the last code used.
    """
    key = base64.b32decode(secret.replace(" ", "").upper())
    step = int(time.time()) // 30
    if username is not None:
        last_used = TOTPDevice.objects.get(user__username=username, confirmed=True).last_t
        step = max(step, last_used + 1)
    totp = TOTP(key, step=30, t0=0, digits=6, drift=0)
    totp.time = step * 30
    return f"{totp.token():06d}"


def log_in(
    page: Page,
    inspector: Inspector,
    site: str,
    username: str,
    password: str,
    token: str,
    step: str = "login",
) -> None:
    """Both factors, typed with the keyboard alone, each page checked."""
    page.goto(site + "/accounts/login/")
    inspector.check(page, step)
    fill_by_keyboard(page, {"username": username, "password": password})
    inspector.check(page, step + "-code")
    fill_by_keyboard(page, {"otp_token": token})


def log_out(page: Page, inspector: Inspector) -> None:
    follow(page, page.get_by_role("button", name="Se déconnecter"))
    inspector.check(page, "logged-out")


def follow(page: Page, locator) -> None:
    """Reach a link or a button with Tab, activate it with Enter, wait for the page it opens.

    As a keyboard user does: every focus stop on the way must show its focus. (A mouse click
    on the document page was also sometimes swallowed while Chromium's PDF viewer started.)
    """
    tab_to(page, locator.first)
    with next_document(page):
        page.keyboard.press("Enter")


def one_page_pdf(text: str) -> bytes:
    """A real PDF that Chromium's viewer can show (the unit tests' minimal PDF is not one)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 760, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def expect_error(page: Page, text: str) -> None:
    """The error summary at the top of the form names the problem, in French."""
    expect(page.locator(".error-summary")).to_contain_text(text)


def fits_320_pixels(page: Page) -> bool:
    """Whether the page, as it is now, fits the narrowest phone without scrolling sideways."""
    page.set_viewport_size(NARROWEST)
    overflow = horizontal_overflow(page)
    page.set_viewport_size(DESKTOP)
    return overflow == 0


def set_up_app(page: Page, inspector: Inspector, step: str) -> None:
    """The forced setup of an authenticator app at the first login."""
    expect(page).to_have_url(re.compile(r"/accounts/2fa/setup/"))
    inspector.check(page, step)
    secret = page.get_by_test_id("totp-secret").inner_text()
    fill_by_keyboard(page, {"otp_token": totp_from_secret(secret)})
    inspector.check(page, step + "-codes")
    follow(page, page.get_by_role("link", name="J'ai conservé mes codes, continuer"))
    inspector.check(page, step + "-done")


def ask_and_read_code(
    page: Page, inspector: Inspector, site: str, person: Beneficiary, kind: str, step: str
) -> str:
    """The number typed twice on /enrollment/, then the code of the letter it sent (``kind``)."""
    page.goto(site + "/enrollment/")
    inspector.check(page, step)
    fill_by_keyboard(page, {"nir": person.nir, "nir_confirmation": person.nir})
    inspector.check(page, step + "-sent")
    letter = Letter.objects.filter(subject_uid=person.uid, kind=kind).latest("requested_at")
    return code_from_letter(letter)
