"""The category of a posted DocumentReference (issue 19, item 2): its ``category`` and
``type`` read against the portal's codes (``access_control.fhir_bundle``: the CI-SIS class,
LOINC, the portal's own system). Each mistake is a ``BadResource`` (400) whose French text
gives the expected format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from access_control import fhir_bundle
from fhir_api.bad_resource import BadResource

Resource = Mapping[str, Any]


def category(resource: Resource) -> str:
    """The portal's category named by ``category`` and ``type``: every concept given must name
    it (a CI-SIS class shared by several categories is made precise by the type or by the
    portal's own code)."""
    concepts = _concepts(resource)
    candidates: set[str] | None = None
    for concept in concepts:
        named = _categories_named(concept)
        if named is not None:
            candidates = named if candidates is None else candidates & named
    if candidates is not None and len(candidates) == 1:
        return candidates.pop()
    expected = _(
        "Name the category with category (the CI-SIS class, system %(cisis)s) and type (LOINC), "
        "or with the portal's own code (system %(local)s): one of %(codes)s."
    ) % {
        "cisis": fhir_bundle.CISIS_CLASS_SYSTEM,
        "local": fhir_bundle.CATEGORY_SYSTEM,
        "codes": ", ".join(fhir_bundle.CATEGORY_CODES),
    }
    if candidates is None:
        raise BadResource(400, "required", expected)
    if not candidates:
        raise BadResource(
            400, "code-invalid", _("These codes name no category of the portal.") + " " + expected
        )
    raise BadResource(
        400,
        "code-invalid",
        _("These codes name several categories of the portal (%(found)s).")
        % {"found": ", ".join(sorted(candidates))}
        + " "
        + expected,
    )


def _concepts(resource: Resource) -> list[Resource]:
    """``category`` (a list of CodeableConcepts) and ``type`` (one), as FHIR shapes them;
    400 ``structure`` otherwise (a number, a string, an object where a list is expected)."""
    category = resource.get("category")
    kind = resource.get("type")
    if category is None:
        category = []
    if (
        not isinstance(category, list)
        or not all(isinstance(concept, dict) for concept in category)
        or (kind is not None and not isinstance(kind, dict))
    ):
        raise BadResource(
            400,
            "structure",
            _(
                'category is a list of concepts and type one concept: "category": [{"coding": '
                '[{"system": ..., "code": ...}]}], "type": {"coding": [{"system": ..., '
                '"code": ...}]}.'
            ),
        )
    return [*category, kind] if kind is not None else list(category)


def _categories_named(concept: object) -> set[str] | None:
    """The categories a CodeableConcept names: those every coding of a known system names
    (its codings say the same thing in several systems); None when no coding's system is
    known (another system's concept, left aside)."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    named: set[str] | None = None
    for coding in codings if isinstance(codings, list) else []:
        if not isinstance(coding, dict) or coding.get("system") not in _KNOWN_SYSTEMS:
            continue
        found = fhir_bundle.categories_for(coding["system"], str(coding.get("code", "")))
        named = found if named is None else named & found
    return named


_KNOWN_SYSTEMS = (
    fhir_bundle.CATEGORY_SYSTEM,
    fhir_bundle.CISIS_CLASS_SYSTEM,
    fhir_bundle.LOINC_SYSTEM,
)
