"""The four-eyes queue: changes to the registry proposed by one staff member, for another.

The list shows who proposed what kind of change and when, never a value. Reviewing one shows
the person's current and proposed identity side by side (recorded on their chain as an identity
read), and its two buttons confirm or reject it, which only a staff member other than the one
who proposed it may do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dmp_portal.admin_lists import NoFacetCounts
from dmp_portal.admin_lookups import OfferedLookupsOnly, choice_lookups
from dmp_portal.admin_review import FourEyesReviewAdmin
from dmp_portal.crypto.fields import is_destroyed
from dmp_portal.http import client_address
from enrollment import selectors
from enrollment.models import Regime, RegistryChange, RegistryChangeState
from enrollment.services.registry_changes import (
    IDENTITY_FIELDS,
    StaffRefused,
    current_values,
    decide_change,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LABELS = {
    "last_name": _("last name"),
    "first_name": _("first name"),
    "birth_date": _("date of birth"),
    "regime": _("insurance scheme"),
    "address": _("postal address"),
}


def _shown(name: str, value) -> str:
    if is_destroyed(value):
        return str(value)
    if name == "address":
        return " / ".join(value["lines"])
    if name == "regime":
        return str(Regime(value).label) if value in Regime.values else value
    return str(value)


@admin.register(RegistryChange)
class RegistryChangeAdmin(NoFacetCounts, OfferedLookupsOnly, FourEyesReviewAdmin):
    list_display = (
        "__str__",
        "person",
        "changed_fields",
        "state",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "review",
    )
    list_filter = ("state",)
    offered_lookups = choice_lookups("state")
    list_select_related = ("beneficiary", "proposed_by", "decided_by")
    review_url = "admin:enrollment_registrychange_review"
    changelist_url = "admin:enrollment_registrychange_changelist"
    refused = StaffRefused
    fields = (
        "person",
        "changed_fields",
        "state",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields
    ordering = ("-proposed_at",)
    actions = None

    @admin.display(description=_("insured person"))
    def person(self, obj):
        return obj.beneficiary.uid

    @admin.display(description=_("review"))
    def review(self, obj):
        if obj.state != RegistryChangeState.PENDING:
            return ""
        url = reverse("admin:enrollment_registrychange_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Review"))

    def has_add_permission(self, request):
        return False  # proposed from the person's page only

    def has_change_permission(self, request, obj=None):
        return False  # decided through the review page only, never edited

    def has_delete_permission(self, request, obj=None):
        return False  # a proposal is a record of who asked for what

    def get_urls(self):
        review = self.admin_site.admin_view(self.review_view)
        return [
            path("<path:object_id>/review/", review, name="enrollment_registrychange_review"),
            *super().get_urls(),
        ]

    def review_view(self, request, object_id):
        found = self.get_object(request, unquote(object_id))
        if found is None or not self.has_view_permission(request, found):
            raise PermissionDenied
        if request.method == "POST":
            return self.decide(request, found.pk, client_address(request))
        try:
            change = selectors.view_change(
                request.user, found.pk, client_address=client_address(request)
            )
        except StaffRefused:
            raise Http404 from None
        if change is None:  # deleted since get_object() found it
            raise Http404
        current = current_values(change.beneficiary)
        rows = [
            (
                LABELS[name],
                _shown(name, current[name]),
                _shown(name, change.values[name]),
                name in change.changed_fields.split(","),
            )
            for name in (*IDENTITY_FIELDS, "address")
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Review a proposed change"),
            "change": change,
            "rows": rows,
            "pending": change.state == RegistryChangeState.PENDING,
            "own": change.proposed_by_id == request.user.pk,
            "may_decide": self.may_decide(request),
        }
        return TemplateResponse(request, "admin/enrollment/registrychange/review.html", context)

    def decide_proposal(self, request, pk: int, *, confirm: bool, client_address: str) -> None:
        decide_change(request.user, pk, confirm=confirm, client_address=client_address)

    def decided_message(self, confirm: bool) -> StrOrPromise:
        return _("Change confirmed and applied.") if confirm else _("Change rejected.")
