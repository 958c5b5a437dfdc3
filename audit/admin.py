"""The audit trail's admin: events, read-only.

Events hold internal ids, roles, actions and outcomes, never health data, so staff may read them;
nobody may add, change or delete one here (and the database refuses it anyway on PostgreSQL).
But whose record an event is about is health metadata (which practitioners, which emergencies,
which documents touched it): no list narrows to one patient, chain or actor, and no page shows
the patient, the chain, its links (MACs) or a patient acting on their own record. Reading one
person's trail is the patient's own history page, or an audited request. Nor does a page show
where a patient (or someone unnamed acting on a person's chain: most likely that person) acted
from: a person's address is personal data; that of a practitioner or staff member at work, or of
an anonymous probe of the system, is what an investigation needs.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.models import UserKind
from audit.models import ANONYMOUS_ROLE, SYSTEM_CHAIN_KEY, AuditEvent
from dmp_portal.admin_lists import LargeListMixin
from dmp_portal.admin_lookups import OfferedLookupsOnly, choice_lookups
from dmp_portal.admin_read_only import ReadOnlyAdminMixin

# Whose name an event may show: those who act on others' records in their work. A patient
# acting on their own record would name the record.
NAMED_ROLES = {UserKind.PRACTITIONER, UserKind.STAFF}
# The roles an event records (the actor's kind at the time, or nobody signed in), in words.
ROLES = {**dict(UserKind.choices), ANONYMOUS_ROLE: _("Not signed in")}


class ActorRoleFilter(admin.SimpleListFilter):
    """The roles as a fixed list: Django's list of a column's values would read the whole
    trail (SELECT DISTINCT) on every page, and show the stored codes instead of words."""

    title = _("actor role")
    parameter_name = "actor_role"

    def lookups(self, request, model_admin):
        return list(ROLES.items())

    def queryset(self, request, queryset):
        if self.value() in ROLES:
            return queryset.filter(actor_role=self.value())
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, LargeListMixin, OfferedLookupsOnly, admin.ModelAdmin):
    list_display = ("occurred_at", "role", "actor_rpps", "action", "outcome", "mode")
    # By period (today, the last 7 days, this month, this year: a range on the indexed time),
    # never a date hierarchy, which reads the dates of the whole trail to build its links.
    list_filter = (
        ("occurred_at", admin.DateFieldListFilter),
        "action",
        "outcome",
        "mode",
        ActorRoleFilter,
    )
    offered_lookups = choice_lookups("action", "outcome", "mode") | {
        ActorRoleFilter.parameter_name,
        "occurred_at__gte",
        "occurred_at__lt",
    }
    ordering = ("-occurred_at",)
    fields = (
        "occurred_at",
        "named_actor",
        "role",
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

    @admin.display(description=_("actor role"), ordering="actor_role")
    def role(self, obj):
        return ROLES.get(obj.actor_role, obj.actor_role)

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
