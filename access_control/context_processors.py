"""The emergency banner: what every page shows a practitioner under an emergency access.

Here rather than in the ground package: it asks the door, and the ground knows no app (settings
name this processor by its dotted path)."""

from __future__ import annotations

from django.contrib import messages
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from access_control import acting as acting_for
from access_control.landing import display_name
from access_control.models import EmergencyAccess
from access_control.policy import decide
from accounts.models import UserKind
from audit.models import Action

# The menu of each kind of account: (URL name, label). Every page of the role is one step
# away from any other (README, "Pages").
MENUS = {
    UserKind.PATIENT: (
        ("access:patient-home", _("Summary")),
        ("records:list", _("My record")),
        ("records:upload", _("Add a document")),
        ("access:overview", _("Who may read it")),
        ("access:history", _("History")),
        ("access:settings", _("Settings")),
        ("accounts:security", _("Account security")),
    ),
    UserKind.PRACTITIONER: (
        ("access:pro-workspace", _("Workspace")),
        ("access:pro-search", _("Find a patient")),
        ("accounts:applications", _("Connected applications")),
        ("accounts:security", _("Account security")),
    ),
    UserKind.STAFF: (
        ("access:staff-home", _("Staff page")),
        ("admin:index", _("Administration")),
        ("accounts:security", _("Account security")),
    ),
}


def emergency(request):
    return {"emergency_until": _emergency_until(request)}


def _emergency_until(request):
    """A practitioner under an emergency access sees it on every page, until it ends, wherever
    the door would let it through (not after a block or an opt-out)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.kind != "practitioner":
        return None
    ends = []
    for access in (
        EmergencyAccess.objects.active().filter(practitioner=user).select_related("patient")
    ):
        decision = decide(user, access.patient, Action.LIST)
        if decision.allowed and decision.mode == "emergency":
            ends.append(access.ends_at)
    return max(ends, default=None)


def person(request):
    """The header's name and menu, for a user past both login steps only: during the second
    factor the portal shows no menu (its pages would only send them back to the login)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"person_name": "", "portal_menu": ()}
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    menu = [
        {"url": reverse(name), "label": label, "current": name == current, "name": name}
        for name, label in MENUS.get(user.kind, ())
    ]
    # Computed when the header shows it (a patient's name is decrypted), once per page.
    return {"person_name": lazy(display_name, str)(user), "portal_menu": menu}


# The pages that act on the record chosen with the switch (issue 17): the others act on one's
# own record and account whatever the switch says (summary, consents, settings, security,
# caregivers, export, closure).
ACTING_PAGES = frozenset({"records:list", "records:upload", "records:document", "access:history"})


def acting(request):
    """Whose record the page is (issue 17, item 3), for a patient past both login steps: the
    banner and the switch, when they represent or help someone. The door is asked again here
    (``acting.current``); a choice it no longer allows falls back to one's own record, said
    once (unless the page's view already said it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.kind != UserKind.PATIENT:
        return {}
    if not user.is_verified():
        return {}
    current = acting_for.current(user, request.session)
    if current.ended:
        messages.warning(request, acting_for.ended_message())
    ties = acting_for.ties_of(user)
    if not ties and current.tie is None:
        return {}
    view_name = getattr(getattr(request, "resolver_match", None), "view_name", "")
    # The consents page follows the switch only for a helper who may manage them.
    follows = view_name in ACTING_PAGES or (
        view_name == "access:overview" and current.tie is not None and current.tie.consents
    )
    return {
        "acting": {
            "tie": current.tie,
            "follows": follows,
            "ties": ties,
            "chosen": str(current.owner.pk) if current.tie is not None else acting_for.MINE,
            # The record this page's forms act on (``acting.FORM_FIELD``): the chosen one on the
            # pages that follow the switch, else one's own.
            "form_record": acting_for.form_record(current, follows=follows),
            # The menu offers « Add a document » only where the door lets one add one: a
            # read-only caregiver acting for someone would find a 404 behind it.
            "may_upload": current.tie is None or current.tie.consents,
        }
    }
