"""Thin views: parse the form, call one service, render. Nothing here decides security rules."""

from __future__ import annotations

import time
from typing import cast

import segno
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts import services
from accounts.authenticated import AuthenticatedRequest
from accounts.forms import FirstPasswordForm, PasswordStepForm, SecondFactorForm, TOTPConfirmForm
from accounts.http import (
    complete_login,
    complete_second_factor,
    known_browser_markers,
    log_in_first_factor,
    next_url,
    remember_next,
)
from accounts.middleware import SESSION_EXPIRED_FLAG, SESSION_SEEN
from accounts.models import ActivationLink, User
from accounts.selectors import has_passkey, has_second_factor, usable_activation_link
from dmp_portal.http import client_address

ACTIVATION_SESSION_KEY = "_dmp_activation_link"
# The pending authenticator app this session was shown: only this session can confirm it.
TOTP_SETUP_SESSION_KEY = "_dmp_totp_setup"
# Like Django's password reset: the token leaves the address bar (and Referer) at once.
ACTIVATION_PLACEHOLDER = "set-password"

protected = [
    never_cache,
    csrf_protect,
    sensitive_post_parameters("password", "otp_token", "new_password1", "new_password2"),
]


@method_decorator(protected, name="dispatch")
class LoginView(View):
    """Both factors at the same address: the password first, then the security code."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.is_verified():
            return redirect(next_url(request))
        remember_next(request)
        if user.is_authenticated:
            if not has_second_factor(user):
                return redirect("accounts:2fa-setup")
            return self._render_code_step(request, SecondFactorForm())
        expired = request.session.pop(SESSION_EXPIRED_FLAG, False)
        return self._render_password_step(request, PasswordStepForm(), expired=expired)

    def post(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.is_verified():
            return redirect(next_url(request))
        if user.is_authenticated:
            return self._post_code(cast(AuthenticatedRequest, request))
        return self._post_password(request)

    def _post_password(self, request: HttpRequest) -> HttpResponse:
        form = PasswordStepForm(request.POST)
        if form.is_valid():
            try:
                user = services.check_password_step(
                    form.cleaned_data["username"],
                    form.cleaned_data["password"],
                    client_address=client_address(request),
                    known_browser_markers=known_browser_markers(request),
                )
            except services.LoginRefused as refusal:
                form.add_error(None, refusal.message)
            else:
                log_in_first_factor(request, user)
                if has_second_factor(user):
                    return redirect("accounts:login")
                return redirect("accounts:2fa-setup")
        return self._render_password_step(request, form)

    def _post_code(self, request: AuthenticatedRequest) -> HttpResponse:
        form = SecondFactorForm(request.POST)
        if form.is_valid():
            try:
                device = services.verify_login_code(
                    request.user,
                    form.cleaned_data["otp_token"],
                    client_address=client_address(request),
                    known_browser=services.is_known_browser(
                        known_browser_markers(request), request.user
                    ),
                )
            except services.LoginRefused as refusal:
                form.add_error("otp_token", refusal.message)
            else:
                response = redirect(next_url(request))
                complete_login(request, response, request.user, device)
                services.remember_language(request.user, translation.get_language())
                return response
        return self._render_code_step(request, form)

    @staticmethod
    def _render_password_step(request, form, expired: bool = False) -> HttpResponse:
        return render(request, "accounts/login.html", {"form": form, "session_expired": expired})

    @staticmethod
    def _render_code_step(request, form) -> HttpResponse:
        return render(
            request,
            "accounts/login_code.html",
            {"form": form, "has_passkey": has_passkey(request.user)},
        )


@method_decorator(protected, name="dispatch")
class LogoutView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "accounts/logout.html")

    def post(self, request: HttpRequest) -> HttpResponse:
        if isinstance(request.user, User):
            services.record_logout(request.user, client_address=client_address(request))
        auth_logout(request)  # deletes the session on the server
        response = redirect("home")
        response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
        return response


@method_decorator(protected, name="dispatch")
@method_decorator(login_required, name="dispatch")
class SecondFactorSetupView(View):
    """Forced right after the first password login of anyone without a second factor."""

    def dispatch(self, request, *args, **kwargs):
        if has_second_factor(request.user):
            return redirect("accounts:login" if not request.user.is_verified() else "home")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: AuthenticatedRequest) -> HttpResponse:
        # Every visit: a new secret, bound to this session.
        device = services.start_totp_setup(
            request.user, request.session.get(TOTP_SETUP_SESSION_KEY)
        )
        request.session[TOTP_SETUP_SESSION_KEY] = device.pk
        return self._render(request, TOTPConfirmForm(), device)

    def post(self, request: AuthenticatedRequest) -> HttpResponse:
        form = TOTPConfirmForm(request.POST)
        device_id = request.session.get(TOTP_SETUP_SESSION_KEY)
        if form.is_valid():
            try:
                confirmed = services.confirm_totp_device(
                    request.user,
                    device_id,
                    form.cleaned_data["otp_token"],
                    client_address=client_address(request),
                    known_browser=services.is_known_browser(
                        known_browser_markers(request), request.user
                    ),
                )
            except services.LoginRefused as refusal:
                form.add_error("otp_token", refusal.message)
            else:
                # Once the device is confirmed, the session's second factor is complete.
                complete_second_factor(request, confirmed.device)
                services.remember_language(request.user, translation.get_language())
                services.record_login(request.user, client_address=client_address(request))
                request.session.pop(TOTP_SETUP_SESSION_KEY, None)
                return render(
                    request,
                    "accounts/backup_codes.html",
                    {"codes": confirmed.codes, "next_url": next_url(request)},
                )
        # A retry shows the same secret as before; a session that was shown none gets one now.
        device = services.pending_totp_device(request.user, device_id)
        if device is None:
            device = services.start_totp_setup(request.user, device_id)
            request.session[TOTP_SETUP_SESSION_KEY] = device.pk
        return self._render(request, form, device)

    @staticmethod
    def _render(request, form, device) -> HttpResponse:
        qr_svg = segno.make(device.config_url, error="m").svg_inline(
            scale=4, title=_("QR code to scan with your authenticator app"), dark="#1b1b1b"
        )
        return render(
            request,
            "accounts/2fa_setup.html",
            {"form": form, "secret": device.base32_secret, "qr_svg": mark_safe(qr_svg)},  # noqa: S308 - generated by segno from our own URL
        )


@method_decorator(protected, name="dispatch")
class ActivateView(View):
    """An invited practitioner's first password, from the single-use link of their e-mail."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        if token != ACTIVATION_PLACEHOLDER:
            link = usable_activation_link(token=token)
            if link is None:
                return self._invalid(request)
            request.session[ACTIVATION_SESSION_KEY] = link.pk
            return redirect("accounts:activate", token=ACTIVATION_PLACEHOLDER)
        link = self._link_from_session(request)
        if link is None:
            return self._invalid(request)
        return self._render(request, FirstPasswordForm(link.user), link)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        if token == ACTIVATION_PLACEHOLDER:
            link = self._link_from_session(request)
        else:
            link = usable_activation_link(token=token)
        if link is None:
            return self._invalid(request)
        form = FirstPasswordForm(link.user, request.POST)
        if form.is_valid():
            try:
                user = services.activate_practitioner(link.pk, form.cleaned_data["new_password1"])
            except services.ActivationRefused:
                return self._invalid(request)
            request.session.pop(ACTIVATION_SESSION_KEY, None)
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("accounts:2fa-setup")
        return self._render(request, form, link)

    @staticmethod
    def _link_from_session(request: HttpRequest) -> ActivationLink | None:
        link_id = request.session.get(ACTIVATION_SESSION_KEY)
        return usable_activation_link(link_id=link_id) if link_id else None

    @staticmethod
    def _render(request, form, link: ActivationLink) -> HttpResponse:
        return render(
            request,
            "accounts/activate.html",
            {"form": form, "profile": link.user.practitioner_profile},
        )

    @staticmethod
    def _invalid(request) -> HttpResponse:
        return render(request, "accounts/activate_invalid.html", status=404)


@login_required
@require_POST
def extend_session(request: HttpRequest) -> HttpResponse:
    """The person asked to stay: this request is activity, which renews the idle timeout
    (SessionTimeoutMiddleware); nothing else to do."""
    request.session[SESSION_SEEN] = time.time()
    return HttpResponse(status=204)


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, unchanged (same address, redirect and cookie); a person signed
    in with both factors has the choice remembered at once, for the e-mails that tasks write
    later without a request. A half-signed-in session changes no account: the login remembers
    the language when it ends."""
    response = django_set_language(request)
    chosen = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    user = request.user
    if chosen is not None and user.is_authenticated and user.is_verified():
        services.remember_language(user, chosen.value)
    return response
