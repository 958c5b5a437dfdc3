"""Access-control admin: the audit trail, the emergency review queue, the profession rules;
all read-only here.

Events hold internal ids, roles, actions and outcomes, never health data, so staff may read them;
nobody may add, change or delete one here (and the database refuses it anyway on PostgreSQL).
But whose record an event is about is health metadata (which practitioners, which emergencies,
which documents touched it): no list narrows to one patient, chain or actor, and no page shows
the patient, the chain, its links (MACs) or a patient acting on their own record. Reading one
person's trail is the patient's own history page, or an audited request. Nor does a page show
where a patient (or someone unnamed acting on a person's chain: most likely that person) acted
from: a person's address is personal data; that of a practitioner or staff member at work, or of
an anonymous probe of the system, is what an investigation needs.

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
from access_control.models import SYSTEM_CHAIN_KEY, AuditEvent, EmergencyAccess, ProfessionRule
from accounts.models import UserKind
from dmp_portal.admin_lookups import OfferedLookupsOnly, all_values_lookups, choice_lookups
from dmp_portal.admin_read_only import ReadOnlyAdminMixin
from dmp_portal.http import client_address

# Whose name an event may show: those who act on others' records in their work. A patient
# acting on their own record would name the record.
NAMED_ROLES = {UserKind.PRACTITIONER, UserKind.STAFF}


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, OfferedLookupsOnly, admin.ModelAdmin):
    list_display = ("occurred_at", "actor_role", "actor_rpps", "action", "outcome", "mode")
    list_filter = ("action", "outcome", "mode", "actor_role")
    offered_lookups = choice_lookups("action", "outcome", "mode") | all_values_lookups("actor_role")
    ordering = ("-occurred_at",)
    date_hierarchy = "occurred_at"
    # The trail grows without end: no COUNT(*) of the whole table on every page.
    show_full_result_count = False
    fields = (
        "occurred_at",
        "named_actor",
        "actor_role",
        "actor_rpps",
        "document_uid",
        "action",
        "outcome",
        "mode",
        "reason",
        "shown_address",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description=_("actor"))
    def named_actor(self, obj):
        if obj.actor_id is None or obj.actor_role not in NAMED_ROLES:
            return "—"
        return obj.actor

    @admin.display(description=_("client address"))
    def shown_address(self, obj):
        """A practitioner's or staff member's address at work, or an anonymous one on the
        system chain (a probe of nobody in particular); never a patient's, nor an anonymous
        one on a person's chain (it would tell where that person, most likely, was)."""
        if obj.actor_role in NAMED_ROLES or obj.chain.key == SYSTEM_CHAIN_KEY:
            return obj.client_address or "—"
        return "—"


@admin.register(EmergencyAccess)
class EmergencyAccessAdmin(OfferedLookupsOnly, admin.ModelAdmin):
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
class ProfessionRuleAdmin(ReadOnlyAdminMixin, OfferedLookupsOnly, admin.ModelAdmin):
    list_display = ("profession", "category", "may_read")
    list_filter = ("profession", "category")
    offered_lookups = all_values_lookups("profession") | {"category__id__exact", "category__isnull"}
    fields = list_display
    readonly_fields = list_display
    list_select_related = ("category",)
    actions = None
