"""Thin views of the enrolment pages."""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import FirstPasswordForm
from accounts.models import User
from dmp_portal.http import client_address
from dmp_portal.views import too_many_attempts
from enrollment.forms import ActivationCodeForm, EnrollmentForm
from enrollment.services.activation import (
    ActivationRefused,
    LogInFirst,
    activate,
    check_code,
    is_reactivation,
    is_representation,
    password_holder,
)
from enrollment.services.majority import is_takeover
from enrollment.services.representation import link_representative
from enrollment.services.requests import TryLater, request_code

VERIFIED_CODE = "_dmp_enrollment_code"
VERIFIED_FOR_SECONDS = 15 * 60
protected = [
    never_cache,
    sensitive_post_parameters(
        "nir", "nir_confirmation", "creation_code", "new_password1", "new_password2"
    ),
]


def _logged_in(request: HttpRequest) -> User | None:
    """The person logged in with both factors, else None: a minor's code is theirs to use."""
    user = request.user
    if isinstance(user, User) and user.is_verified():
        return user
    return None


def eligibility(request: HttpRequest) -> HttpResponse:
    return render(request, "enrollment/eligibility.html")


@method_decorator(protected, name="dispatch")
class EnrollmentView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "enrollment/request.html", {"form": EnrollmentForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EnrollmentForm(request.POST)
        if not form.is_valid():
            return render(request, "enrollment/request.html", {"form": form})
        try:
            request_code(client_address(request), form.cleaned_data["nir"])
        except TryLater as wait:
            return too_many_attempts(request, wait.seconds)
        return render(request, "enrollment/requested.html")


@method_decorator(protected, name="dispatch")
class ActivationView(View):
    """Step 1: number and code. Step 2: password. Then the login identifier, shown once."""

    def get(self, request: HttpRequest) -> HttpResponse:
        code_id = self._verified_code(request)
        if code_id is None:
            return render(request, "enrollment/activate.html", {"form": ActivationCodeForm()})
        return self._password_step(request, code_id, FirstPasswordForm(password_holder(code_id)))

    def post(self, request: HttpRequest) -> HttpResponse:
        code_id = self._verified_code(request)
        if code_id is not None and "new_password1" in request.POST:
            password_form = FirstPasswordForm(password_holder(code_id), request.POST)
            if not password_form.is_valid():
                return self._password_step(request, code_id, password_form)
            reactivation = is_reactivation(code_id)
            done = (
                "enrollment/taken_over.html"
                if is_takeover(code_id)
                else "enrollment/activated.html"
            )
            try:
                user = activate(
                    code_id,
                    password_form.cleaned_data["new_password1"],
                    client_address=client_address(request),
                    signed_in=request.user.is_authenticated,
                )
            except ActivationRefused:
                request.session.pop(VERIFIED_CODE, None)
                return render(
                    request,
                    "enrollment/activate.html",
                    {"form": ActivationCodeForm(), "refused": True},
                )
            request.session.pop(VERIFIED_CODE, None)
            return render(request, done, {"identifier": user.username, "reactivated": reactivation})
        form = ActivationCodeForm(request.POST)
        if form.is_valid():
            representative = _logged_in(request)
            try:
                code_id = check_code(
                    client_address(request),
                    form.cleaned_data["nir"],
                    form.cleaned_data["creation_code"],
                    user=representative,
                    signed_in=request.user.is_authenticated,
                )
            except TryLater as wait:
                return too_many_attempts(request, wait.seconds)
            except LogInFirst:
                # A fresh form: the code is never echoed back, nor put in the address.
                return render(
                    request,
                    "enrollment/activate.html",
                    {"form": ActivationCodeForm(), "log_in_first": True},
                )
            except ActivationRefused as refusal:
                form.add_error(None, refusal.message)
            else:
                if representative is not None and is_representation(code_id):
                    return self._represent(request, code_id, representative)
                request.session.cycle_key()
                request.session[VERIFIED_CODE] = (code_id, time.time())
                return redirect("enrollment:activate")
        return render(request, "enrollment/activate.html", {"form": form})

    @staticmethod
    def _represent(request: HttpRequest, code_id: int, user: User) -> HttpResponse:
        """A minor's code, checked for the logged-in representative: linked at once."""
        try:
            child = link_representative(code_id, user, client_address(request))
        except ActivationRefused:
            return render(
                request, "enrollment/activate.html", {"form": ActivationCodeForm(), "refused": True}
            )
        return render(request, "enrollment/represented.html", {"child": child})

    @staticmethod
    def _verified_code(request: HttpRequest) -> int | None:
        verified = request.session.get(VERIFIED_CODE)
        if not verified or time.time() - verified[1] > VERIFIED_FOR_SECONDS:
            return None
        return verified[0]

    @staticmethod
    def _password_step(request: HttpRequest, code_id: int, form) -> HttpResponse:
        template = "enrollment/activate_password.html"
        if is_takeover(code_id):  # issue 17: the young adult's first password, at 18
            template = "enrollment/takeover_password.html"
        return render(request, template, {"form": form, "reactivation": is_reactivation(code_id)})
