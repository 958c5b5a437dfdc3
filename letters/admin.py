"""Letters admin: states, dispatch deadline, returns and the mail-house export.

Staff see references and states; never a letter's content, which carries a creation code, nor
its address, nor whose letter it is (no list narrows to one person). The export is the one place
a letter is decrypted, and it is audited per letter; so is marking a letter returned.
"""

import io

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _

from dmp_portal.admin_lists import LargeListMixin, NoFacetCounts
from dmp_portal.admin_lookups import OfferedLookupsOnly, choice_lookups
from dmp_portal.http import client_address
from letters.models import Letter, LetterBatch
from letters.selectors import overdue_letters
from letters.services import ExportRefused, ReturnRefused, export_batch_as_zip, mark_returned

# The kinds of letter (settings.LETTER_BUILDERS), in words.
KIND_LABELS = {
    "creation_code": _("Creation code letter"),
    "reactivation_code": _("Reactivation code letter"),
    "opening_notice": _("Notice of a record's opening"),
    "reactivation_notice": _("Notice of an account's reactivation"),
    "representative_code": _("Code letter to a minor's legal representative"),
    "majority_code": _("Takeover code letter (majority)"),
    "majority_notice": _("Notice of a record's takeover at majority"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


class KindFilter(admin.SimpleListFilter):
    """The kinds the portal writes, as a fixed list: Django's list of a column's values would
    read every letter (SELECT DISTINCT) on every page, and show the stored codes."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, kind_label(kind)) for kind in settings.LETTER_BUILDERS]

    def queryset(self, request, queryset):
        if self.value() in settings.LETTER_BUILDERS:
            return queryset.filter(kind=self.value())
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("dispatch deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Not dispatched within 10 days"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue_letters().values("pk"))
        return queryset


@admin.register(Letter)
class LetterAdmin(LargeListMixin, OfferedLookupsOnly, admin.ModelAdmin):
    list_display = (
        "reference",
        "kind_shown",
        "state",
        "requested_at",
        "rendered_at",
        "dispatched_at",
        "returned_at",
        "overdue",
    )
    list_filter = ("state", OverdueFilter, KindFilter)
    # Never ?subject_uid=: one person's letters.
    offered_lookups = choice_lookups("state") | {
        OverdueFilter.parameter_name,
        KindFilter.parameter_name,
    }
    search_fields = ("reference",)
    fields = (
        "reference",
        "kind_shown",
        "state",
        "requested_at",
        "rendered_at",
        "dispatched_at",
        "returned_at",
        "batch",
        "page_count",
    )
    readonly_fields = fields
    actions = ["mark_returned_action"]
    change_list_template = "admin/letters/letter/change_list.html"

    @admin.display(description=_("kind"), ordering="kind")
    def kind_shown(self, obj):
        return kind_label(obj.kind)

    def get_queryset(self, request):
        # Whether each letter is late, in the list's own query rather than one query per row.
        late = overdue_letters().filter(pk=OuterRef("pk"))
        return super().get_queryset(request).annotate(is_overdue=Exists(late))

    @admin.display(description=_("late"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    @admin.action(description=_("Mark as returned undelivered"), permissions=["change"])
    def mark_returned_action(self, request, queryset):
        """Each return supersedes what the letter carried and is recorded on its recipient's
        chain, naming this staff member."""
        try:
            count = mark_returned(
                request.user,
                list(queryset.values_list("pk", flat=True)),
                client_address=client_address(request),
            )
        except ReturnRefused:
            raise Http404 from None
        self.message_user(request, _("%(count)d letter(s) marked as returned.") % {"count": count})

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a letter is never lost: it is marked, not deleted

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_view)
        return [path("export/", export, name="letters_letter_export"), *super().get_urls()]

    def export_view(self, request):
        """The same batch as ``export_letters``, as a zip download; each letter's export is
        recorded on its recipient's chain, naming this staff member."""
        if request.method != "POST" or not self.has_change_permission(request):
            return redirect("admin:letters_letter_changelist")
        try:
            exported = export_batch_as_zip(request.user, client_address=client_address(request))
        except ExportRefused:
            raise Http404 from None
        if exported is None:
            self.message_user(request, _("No letter is waiting to be dispatched."), messages.INFO)
            return redirect("admin:letters_letter_changelist")
        name, content = exported
        return FileResponse(io.BytesIO(content), as_attachment=True, filename=name)


@admin.register(LetterBatch)
class LetterBatchAdmin(NoFacetCounts, OfferedLookupsOnly, admin.ModelAdmin):
    list_display = ("uid", "created_at", "letter_count")
    readonly_fields = ("uid", "created_at", "letter_count")
    actions = None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was handed to the mail house
