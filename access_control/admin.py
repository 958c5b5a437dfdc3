"""Access-control admin: the emergency review queue and the profession rules. (The audit
trail's events are in ``audit.admin``.)

Marking an emergency reviewed is recorded on the patient's chain, naming the reviewer
(``access_control.emergency_review``).

Profession rules decide what every practitioner of a profession reads: widening one opens
records no patient opened. They change only by a migration, reviewed like any code (four eyes,
and in version control), never by one staff member in the admin.
"""

from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from access_control import emergency_review
from access_control.admin_death import DeathProposalAdmin  # noqa: F401 (registers it)
from access_control.models import EmergencyAccess, ProfessionRule
from dmp_portal.admin_lists import NoFacetCounts
from dmp_portal.admin_lookups import OfferedLookupsOnly, choice_lookups
from dmp_portal.admin_read_only import ReadOnlyAdminMixin
from dmp_portal.http import client_address


@admin.register(EmergencyAccess)
class EmergencyAccessAdmin(NoFacetCounts, OfferedLookupsOnly, admin.ModelAdmin):
    """The review queue of every emergency access: who declared it, when, until when, and
    whether it was reviewed; by practitioner, to see a pattern. Never whose record: the reason
    stays encrypted with the patient's key (the patient reads it), and the patient is not shown
    nor may the queue be narrowed to one."""

    list_display = ("started_at", "ends_at", "practitioner", "reviewed_at", "reviewed_by")
    list_filter = (
        ("reviewed_at", admin.EmptyFieldListFilter),
        ("practitioner", admin.RelatedOnlyFieldListFilter),
    )
    offered_lookups = frozenset(
        {"reviewed_at__isempty", "practitioner__id__exact", "practitioner__isnull"}
    )
    fields = ("practitioner", "started_at", "ends_at", "reviewed_at", "reviewed_by")
    readonly_fields = fields
    actions = ["mark_reviewed"]
    list_select_related = ("practitioner", "reviewed_by")

    @admin.action(description=_("Mark as reviewed"), permissions=["change"])
    def mark_reviewed(self, request, queryset):
        """Each review is recorded on the patient's chain, naming this staff member."""
        try:
            emergency_review.mark_reviewed(
                request.user,
                list(queryset.values_list("pk", flat=True)),
                client_address=client_address(request),
            )
        except emergency_review.ReviewRefused:
            raise Http404 from None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProfessionRule)
class ProfessionRuleAdmin(ReadOnlyAdminMixin, NoFacetCounts, OfferedLookupsOnly, admin.ModelAdmin):
    list_display = ("profession", "category", "may_read")
    list_filter = ("profession", "category")
    offered_lookups = choice_lookups("profession") | {"category__id__exact", "category__isnull"}
    fields = list_display
    readonly_fields = list_display
    list_select_related = ("category",)
    actions = None
