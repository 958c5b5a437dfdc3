"""Recording a death, with four eyes: one staff member proposes it, another confirms it.

The proposal finds the person in the registry by their whole NIR (a POST: the NIR never travels
in a URL; the look-up lands on their chain, like the registry's own look-up), then files a
proposal (``propose-death`` on their chain), both in ``deaths.propose_death_by_nir``. The
review page of a pending proposal shows another staff member the person's identity (an identity
read, recorded) so that they check whom they are about to close (a decided proposal, or one's
own, shows none and reads nothing), and its two buttons confirm (``confirm-death``: the record
closes for good, the account can no longer log in) or reject it; the proposer is refused by the
door. Staff never see any health content here: neither the list nor the review shows a
document, a consent or an access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from access_control import closure, deaths
from access_control.decisions import StaffRefused
from access_control.models import DeathProposal, DeathProposalState
from dmp_portal.admin_lists import NoFacetCounts
from dmp_portal.admin_lookups import OfferedLookupsOnly, choice_lookups
from dmp_portal.admin_review import FourEyesReviewAdmin
from dmp_portal.http import client_address
from enrollment import nir

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ProposeDeathForm(forms.Form):
    nir = forms.CharField(
        label=_("Social security number of the deceased person"),
        max_length=32,
        help_text=_("15 characters, for example 1 85 05 78 006 084 36."),
    )

    def clean_nir(self) -> str:
        return nir.validate(self.cleaned_data["nir"])


@admin.register(DeathProposal)
class DeathProposalAdmin(NoFacetCounts, OfferedLookupsOnly, FourEyesReviewAdmin):
    list_display = (
        "__str__",
        "state",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "review",
    )
    list_filter = ("state",)
    offered_lookups = choice_lookups("state")
    list_select_related = ("proposed_by", "decided_by")
    review_url = "admin:access_control_deathproposal_review"
    changelist_url = "admin:access_control_deathproposal_changelist"
    refused = StaffRefused
    fields = ("state", "proposed_by", "proposed_at", "decided_by", "decided_at")
    readonly_fields = fields
    ordering = ("-proposed_at",)
    actions = None
    change_list_template = "admin/access_control/deathproposal/change_list.html"

    @admin.display(description=_("review"))
    def review(self, obj):
        if obj.state != DeathProposalState.PENDING:
            return ""
        url = reverse("admin:access_control_deathproposal_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Review"))

    def has_add_permission(self, request):
        return False  # proposed through the NIR form only

    def has_change_permission(self, request, obj=None):
        return False  # decided through the review page only, never edited

    def has_delete_permission(self, request, obj=None):
        return False  # a proposal is a record of who asked for what

    def get_urls(self):
        propose = self.admin_site.admin_view(self.propose_view)
        review = self.admin_site.admin_view(self.review_view)
        return [
            path("propose/", propose, name="access_control_deathproposal_propose"),
            path("<path:object_id>/review/", review, name="access_control_deathproposal_review"),
            *super().get_urls(),
        ]

    def propose_view(self, request):
        if not self.may_decide(request):
            raise PermissionDenied
        form = ProposeDeathForm(request.POST or None)
        if request.method == "POST" and form.is_valid() and self._propose(request, form):
            self.message_user(
                request,
                _("Death proposed: another staff member must confirm it."),
                messages.SUCCESS,
            )
            return redirect("admin:access_control_deathproposal_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Record a death"),
        }
        return TemplateResponse(request, "admin/access_control/deathproposal/propose.html", context)

    def _propose(self, request, form: ProposeDeathForm) -> bool:
        """File the proposal (the service finds the person); False with the form's error."""
        try:
            deaths.propose_death_by_nir(
                request.user, form.cleaned_data["nir"], client_address=client_address(request)
            )
        except ValidationError as error:
            form.add_error("nir", error)
            return False
        except StaffRefused:
            raise Http404 from None
        return True

    def review_view(self, request, object_id):
        found = self.get_object(request, unquote(object_id))
        if found is None or not self.has_view_permission(request, found):
            raise PermissionDenied
        if request.method == "POST":
            return self.decide(request, found.pk, client_address(request))
        try:
            # Read (and recorded) only when there is something to decide.
            person = deaths.identity_for_death_review(
                request.user, found, client_address=client_address(request)
            )
        except StaffRefused:
            raise Http404 from None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Review a recorded death"),
            "proposal": found,
            "person": person,
            "pending": found.state == DeathProposalState.PENDING,
            "own": found.proposed_by_id == request.user.pk,
            "may_decide": self.may_decide(request),
        }
        return TemplateResponse(request, "admin/access_control/deathproposal/review.html", context)

    def decide_proposal(self, request, pk: int, *, confirm: bool, client_address: str) -> None:
        closure.decide_death(request.user, pk, confirm=confirm, client_address=client_address)

    def decided_message(self, confirm: bool) -> StrOrPromise:
        if confirm:
            return _("Death confirmed: the record is closed and the account can no longer log in.")
        return _("Proposal rejected.")
