"""Reading the API's parameters (issue 19): the NIR of a Patient search, the parameters of a
DocumentReference search. Bad input raises ``BadRequest`` with a French message that gives the
expected format; the view answers it as a 400 OperationOutcome.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _

from access_control.fhir_bundle import NIR_SYSTEM, categories_for
from enrollment import nir
from fhir_api.selectors import DateRange, DocumentSearch


class BadRequest(ValueError):
    """The message is the French diagnostics of the 400 OperationOutcome."""


# A NIR as people write it (13 characters and its 2-digit key, groups separated or not, 2A/2B
# for Corsica), as ``dmp_portal.logging`` masks it: never accepted in an address.
_NIR_SHAPED = re.compile(
    r"(?<![\w])[12378][\s.\-]?\d{2}[\s.\-]?\d{2}[\s.\-]?(?:\d{2}|2[AB])[\s.\-]?"
    r"\d{3}[\s.\-]?\d{3}(?:[\s.\-]?\d{2})?(?![\w])",
    re.IGNORECASE,
)


def nir_in_query(query: QueryDict) -> bool:
    """Whether an address carries a patient's identifier: the ``identifier`` parameter, or a
    NIR in any value. Such a call is refused before anything else (README, « FHIR API »)."""
    if "identifier" in query:
        return True
    return any(_NIR_SHAPED.search(value) for values in query.lists() for value in values[1])


def searched_nir(form: QueryDict) -> str:
    """The normalised NIR of ``identifier=urn:oid:1.2.250.1.213.1.4.8|<NIR>``."""
    expected = _(
        "Expected identifier=urn:oid:1.2.250.1.213.1.4.8|<NIR> (the INS-NIR system, a vertical "
        "bar, then the 15 characters of the social security number), sent as a form with POST "
        "/fhir/Patient/_search."
    )
    values = form.getlist("identifier")
    if len(values) != 1 or "|" not in values[0]:
        raise BadRequest(expected)
    system, number = values[0].split("|", 1)
    if system != NIR_SYSTEM:
        raise BadRequest(expected)
    try:
        return nir.validate(number)
    except ValidationError as exc:
        raise BadRequest(" ".join(exc.messages)) from exc


def patient_reference(query: QueryDict) -> str:
    """The Patient id of ``patient=<id>`` (or ``Patient/<id>``, or its full URL)."""
    value = query.get("patient", "").strip()
    if not value:
        raise BadRequest(
            _(
                "The patient parameter is required: patient=<id of the Patient>, the id "
                "returned by POST /fhir/Patient/_search."
            )
        )
    return value.rstrip("/").rsplit("/", 1)[-1]


def _categories(query: QueryDict) -> frozenset[str] | None:
    values = [token for value in query.getlist("category") for token in value.split(",") if token]
    if not values:
        return None
    found: set[str] = set()
    for token in values:
        system, _bar, code = token.rpartition("|")
        found |= categories_for(system, code)
    return frozenset(found)


_DATE = re.compile(r"^(eq|ge|gt|le|lt)?([0-9]{4}-[0-9]{2}-[0-9]{2})$")


def _date_range(query: QueryDict, name: str) -> DateRange:
    start: date | None = None
    end: date | None = None
    for value in query.getlist(name):
        match = _DATE.match(value.strip())
        day = None
        if match is not None:
            try:
                day = date.fromisoformat(match.group(2))
            except ValueError:
                day = None
        if match is None or day is None:
            raise BadRequest(
                _(
                    "The %(name)s parameter must be a date YYYY-MM-DD, optionally after ge, le, "
                    "gt, lt or eq; for example %(name)s=ge2026-01-01."
                )
                % {"name": name}
            )
        prefix = match.group(1) or "eq"
        if prefix in ("eq", "ge", "gt"):
            low = day + timedelta(days=1) if prefix == "gt" else day
            start = low if start is None else max(start, low)
        if prefix in ("eq", "le", "lt"):
            high = day - timedelta(days=1) if prefix == "lt" else day
            end = high if end is None else min(end, high)
    return DateRange(start, end)


# A whole number as ASCII digits only: ``str.isdigit`` also says yes to « ² » or « ٣ », which
# ``int`` then refuses; and a bounded length, so that no number overflows the database's.
_WHOLE = re.compile(r"[0-9]{1,9}")
LARGEST_PAGE = 10_000


def _positive(query: QueryDict, name: str, default: int, message: str) -> int:
    value = query.get(name, "")
    if value == "":
        return default
    if _WHOLE.fullmatch(value) is None or int(value) < 1:
        raise BadRequest(message)
    return int(value)


def document_search(query: QueryDict) -> tuple[DocumentSearch, int]:
    """The search and its page number (``_page``, from 1). ``_count``: FHIR_PAGE_SIZE by
    default, at most FHIR_MAX_PAGE_SIZE (a larger one is cut down to it, as FHIR allows)."""
    largest = settings.FHIR_MAX_PAGE_SIZE
    count = _positive(
        query,
        "_count",
        settings.FHIR_PAGE_SIZE,
        _("_count must be a whole number from 1 to %(largest)d.") % {"largest": largest},
    )
    page_message = _("_page must be a whole number from 1 to %(largest)d.") % {
        "largest": LARGEST_PAGE
    }
    page = _positive(query, "_page", 1, page_message)
    if page > LARGEST_PAGE:  # past it, the offset would only grow towards an overflow
        raise BadRequest(page_message)
    count = min(count, largest)
    search = DocumentSearch(
        categories=_categories(query),
        added=_date_range(query, "date"),
        act=_date_range(query, "period"),
        count=count,
        offset=(page - 1) * count,
    )
    return search, page


def paging_links(
    query: QueryDict, base: str, patient_id: str, count: int, page: int, total: int
) -> list[tuple[str, str]]:
    """A DocumentReference search's links (``self``, ``first``, ``previous``, ``next``,
    ``last``): the Patient's id and the search's own parameters, never a NIR."""
    kept = [
        (name, value) for name in ("category", "date", "period") for value in query.getlist(name)
    ]

    def url(number: int) -> str:
        items = [("patient", patient_id), *kept, ("_count", str(count)), ("_page", str(number))]
        return f"{base}DocumentReference?{urlencode(items)}"

    last = max(1, -(-total // count))
    links = [("self", url(page)), ("first", url(1))]
    if page > 1:
        links.append(("previous", url(min(page - 1, last))))
    if page < last:
        links.append(("next", url(page + 1)))
    links.append(("last", url(last)))
    return links
