"""The admin's lists accept only the filters they offer.

Out of the box, Django's admin accepts in the query string, besides the filters a list shows, any
lookup on one of the model's own fields or one relation deep. On the documents, ``?patient=<uuid>``
listed the categories, dates and types of one named patient's documents; on the audit trail,
``?chain__key=...`` or ``?patient=...`` listed which practitioners and emergencies touched one
record; and none of it left an event on that patient's chain. Staff hold patients' ids (their own
identity reads are recorded on the patient's chain), so such a lookup is a read of a record that
bypasses the door. Each list here declares the lookups its filters and date hierarchy send, and
Django refuses every other one with its usual 400 (``DisallowedModelAdminLookup``).
"""

from __future__ import annotations

DATE_PARTS = ("year", "month", "day")


class OfferedLookupsOnly:
    """Mixed into a ModelAdmin: ``offered_lookups`` names exactly the query-string lookups its
    ``list_filter`` send (``tests/test_admin_filters.py`` follows every filter link, so a filter
    whose lookup is missing here fails there); none may narrow to one patient or chain."""

    offered_lookups: frozenset[str] = frozenset()

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if lookup in self.offered_lookups:
            return True
        hierarchy = getattr(self, "date_hierarchy", None)
        return bool(hierarchy) and lookup in {f"{hierarchy}__{part}" for part in DATE_PARTS}


def choice_lookups(*fields: str) -> frozenset[str]:
    """What a filter on a field with choices, or a boolean, sends."""
    return frozenset(f"{field}__{suffix}" for field in fields for suffix in ("exact", "isnull"))


def all_values_lookups(*fields: str) -> frozenset[str]:
    """What a filter listing a plain field's values sends."""
    return frozenset(fields) | {f"{field}__isnull" for field in fields}
