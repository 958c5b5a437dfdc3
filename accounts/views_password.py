"""Thin views: password forgotten, password change, and the contact address's confirmation link.

Links carrying a token leave the address bar at once, as activation links do
(``accounts.views.ActivateView``): the token is swapped for the link's id in the session and the
browser is sent to the same address with a placeholder instead of the token.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.authenticated import AuthenticatedRequest
from accounts.forms import FirstPasswordForm, PasswordChangeForm, PasswordResetRequestForm
from accounts.http import known_browser_markers
from accounts.models import ContactEmailChange, PasswordResetLink
from accounts.selectors import usable_contact_change
from accounts.services import contact_email, password
from accounts.services.authentication import is_known_browser
from dmp_portal.http import client_address

RESET_SESSION_KEY = "_dmp_password_reset_link"
CONFIRM_SESSION_KEY = "_dmp_contact_email_change"
PLACEHOLDER = "set-password"
CONFIRM_PLACEHOLDER = "confirm"

protected = [
    never_cache,
    csrf_protect,
    # Never in an error report: the passwords, the code, and the address someone typed.
    sensitive_post_parameters(
        "old_password", "new_password1", "new_password2", "otp_token", "email"
    ),
]


@method_decorator(protected, name="dispatch")
class PasswordResetRequestView(View):
    """The same page after the request, whether the address is known, unknown or unverified."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, PasswordResetRequestForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PasswordResetRequestForm(request.POST)
        if form.is_valid():
            try:
                password.request_password_reset(
                    form.cleaned_data["email"], client_address=client_address(request)
                )
            except password.PasswordRefused as refusal:
                form.add_error(None, refusal.message)
            else:
                return render(request, "accounts/password_reset_sent.html")
        return self._render(request, form)

    @staticmethod
    def _render(request: HttpRequest, form: PasswordResetRequestForm) -> HttpResponse:
        return render(request, "accounts/password_reset.html", {"form": form})


@method_decorator(protected, name="dispatch")
class PasswordResetConfirmView(View):
    """The link of the reset e-mail: choose a new password. Used, expired, superseded or
    unknown links all get the same page."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        if token != PLACEHOLDER:
            link = self._usable(request, token=token)
            if link is None:
                return self._invalid(request)
            request.session[RESET_SESSION_KEY] = link.pk
            return redirect("accounts:password-reset-confirm", token=PLACEHOLDER)
        link = self._from_session(request)
        if link is None:
            return self._invalid(request)
        return self._render(request, FirstPasswordForm(link.user))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        link = (
            self._from_session(request)
            if token == PLACEHOLDER
            else self._usable(request, token=token)
        )
        if link is None:
            return self._invalid(request)
        form = FirstPasswordForm(link.user, request.POST)
        if form.is_valid():
            try:
                password.reset_password(
                    link.pk,
                    form.cleaned_data["new_password1"],
                    client_address=client_address(request),
                )
            except password.PasswordRefused:
                return self._invalid(request)
            request.session.pop(RESET_SESSION_KEY, None)
            messages.success(
                request,
                _(
                    "Your new password is set. Log in with it: the code of your authenticator"
                    " app is still asked."
                ),
            )
            return redirect("accounts:login")
        return self._render(request, form)

    @staticmethod
    def _usable(request: HttpRequest, *, token: str) -> PasswordResetLink | None:
        return password.open_reset_link(token=token, client_address=client_address(request))

    @staticmethod
    def _from_session(request: HttpRequest) -> PasswordResetLink | None:
        link_id = request.session.get(RESET_SESSION_KEY)
        if not link_id:
            return None
        return password.open_reset_link(link_id=link_id, client_address=client_address(request))

    @staticmethod
    def _render(request: HttpRequest, form: FirstPasswordForm) -> HttpResponse:
        return render(request, "accounts/password_reset_set.html", {"form": form})

    @staticmethod
    def _invalid(request: HttpRequest) -> HttpResponse:
        return render(request, "accounts/password_reset_invalid.html", status=404)


@method_decorator(protected, name="dispatch")
@method_decorator(login_required, name="dispatch")
class PasswordChangeView(View):
    def get(self, request: AuthenticatedRequest) -> HttpResponse:
        return self._render(request, PasswordChangeForm(request.user))

    def post(self, request: AuthenticatedRequest) -> HttpResponse:
        form = PasswordChangeForm(request.user, request.POST)
        if form.is_valid():
            try:
                user = password.change_password(
                    request.user,
                    old_password=form.cleaned_data["old_password"],
                    new_password=form.cleaned_data["new_password1"],
                    otp_token=form.cleaned_data["otp_token"],
                    client_address=client_address(request),
                    known_browser=is_known_browser(known_browser_markers(request), request.user),
                    keep_session_key=request.session.session_key,
                )
            except password.PasswordRefused as refusal:
                form.add_error(refusal.field, refusal.message)
            else:
                # This session stays open (with a new id); every other one ends.
                update_session_auth_hash(request, user)
                messages.success(
                    request,
                    _("Your password is changed. Your other open sessions were ended."),
                )
                return redirect("accounts:password-change")
        return self._render(request, form)

    @staticmethod
    def _render(request: HttpRequest, form: PasswordChangeForm) -> HttpResponse:
        return render(request, "accounts/password_change.html", {"form": form})


@method_decorator(protected, name="dispatch")
class ContactEmailConfirmView(View):
    """The link of the confirmation e-mail, then a button: the address is confirmed by a POST,
    never by merely opening the link (a mail scanner following links confirms nothing)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        if token != CONFIRM_PLACEHOLDER:
            change = self._usable(request, token=token)
            if change is None:
                return self._invalid(request)
            request.session[CONFIRM_SESSION_KEY] = change.pk
            return redirect("accounts:email-confirm", token=CONFIRM_PLACEHOLDER)
        if self._from_session(request) is None:
            return self._invalid(request)
        return render(request, "accounts/email_confirm.html")

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        change = self._from_session(request) if token == CONFIRM_PLACEHOLDER else None
        if change is None:
            return self._invalid(request)
        try:
            contact_email.confirm_contact_email(change.pk, client_address=client_address(request))
        except contact_email.ContactEmailRefused:
            return self._invalid(request)
        request.session.pop(CONFIRM_SESSION_KEY, None)
        return render(request, "accounts/email_confirmed.html")

    @staticmethod
    def _usable(request: HttpRequest, *, token: str) -> ContactEmailChange | None:
        if contact_email.confirmation_link_refused(client_address(request)):
            return None
        change = usable_contact_change(token=token)
        if change is None:
            contact_email.confirmation_link_failed(client_address(request))
        return change

    @staticmethod
    def _from_session(request: HttpRequest) -> ContactEmailChange | None:
        change_id = request.session.get(CONFIRM_SESSION_KEY)
        return usable_contact_change(change_id=change_id) if change_id else None

    @staticmethod
    def _invalid(request: HttpRequest) -> HttpResponse:
        return render(request, "accounts/email_confirm_invalid.html", status=404)


@login_required
@require_POST
def resend_contact_confirmation(request: AuthenticatedRequest) -> HttpResponse:
    try:
        sent = contact_email.resend_confirmation(request.user)
    except contact_email.ContactEmailRefused as refusal:
        messages.error(request, refusal.message)
    else:
        if sent:
            messages.info(request, _("A new confirmation link was sent."))
    return redirect("access:settings" if request.user.is_patient else "home")
