"""The decision on a four-eyes review page of the admin: one staff member proposed something
(a change to the registry, a death), another confirms or rejects it there.

The ground knows no app: the admin that uses it names its service (``decide_proposal``), the
service's refusal (``refused``, answered 404) and its pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class FourEyesReviewAdmin(admin.ModelAdmin):
    """The admin of proposals whose review page posts ``decision`` = ``confirm`` or
    ``reject``. Subclasses set ``review_url`` and ``changelist_url`` (admin URL names) and
    ``refused``, and define ``decide_proposal`` and ``decided_message``."""

    review_url: str
    changelist_url: str
    refused: type[Exception]

    def may_decide(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def decide_proposal(
        self, request: HttpRequest, pk: int, *, confirm: bool, client_address: str
    ) -> None:
        raise NotImplementedError

    def decided_message(self, confirm: bool) -> StrOrPromise:
        raise NotImplementedError

    def decide(self, request: HttpRequest, proposal_pk: int, client_address: str) -> HttpResponse:
        """The POST of the review page: the service's French errors shown there, a refusal of
        the door answered 404, then back to the list with what was done."""
        if not self.may_decide(request):
            raise PermissionDenied
        decision = request.POST.get("decision")
        if decision not in ("confirm", "reject"):
            self.message_user(request, _("Choose to confirm or to reject."), messages.ERROR)
            return redirect(self.review_url, proposal_pk)
        confirm = decision == "confirm"
        try:
            self.decide_proposal(
                request, proposal_pk, confirm=confirm, client_address=client_address
            )
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return redirect(self.review_url, proposal_pk)
        except self.refused:
            raise Http404 from None
        self.message_user(request, self.decided_message(confirm), messages.SUCCESS)
        return redirect(self.changelist_url)
