"""Reads of the practitioners' directory for the patient who gives access (/access/).

Every practitioner of the directory is found, whether or not they activated their account:
a patient may give access before the practitioner's first login. Names, profession, specialty
and city are the public data of the national directory (accounts.users). A practitioner the
searching patient blocked is found too, marked as blocked (their own decision, shown to them
alone): the page offers to lift the block instead of a grant the door would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.utils.translation import gettext as _

from access_control.models import Block
from accounts.models import PractitionerProfile, Profession, User
from accounts.names import search_key

# Fewer letters find too many people to choose from.
MIN_SEARCH_LETTERS = 2
# Words of a query tried in each order ("claire martin" finds "Martin Claire"): a few at most.
MAX_SEARCH_WORDS = 4
SHOWN_PRACTITIONERS = 20

# Professions whose members are addressed as "Dr".
DOCTORS = frozenset({Profession.MEDECIN, Profession.CHIRURGIEN_DENTISTE})


def search_words(query: str) -> list[str]:
    """The words of a query in search form (accounts.names.search_key)."""
    return search_key(query).split()


@dataclass(frozen=True)
class DirectoryEntry:
    """One practitioner as the patient chooses them: enough to tell two namesakes apart."""

    rpps: str
    first_name: str
    last_name: str
    profession: str  # the profession's label, in the current language
    specialty: str
    city: str
    is_doctor: bool
    # The active block of the searching patient on this practitioner, if any (never another
    # patient's): the page offers to lift it rather than a grant the door would refuse.
    block_id: int | None = None

    @property
    def name(self) -> str:
        """ "Dr Claire Martin" for a doctor or a dentist, "Claire Martin" otherwise."""
        values = {"first_name": self.first_name, "last_name": self.last_name}
        if self.is_doctor:
            return _("Dr %(first_name)s %(last_name)s") % values
        return _("%(first_name)s %(last_name)s") % values

    @property
    def description(self) -> str:
        """Who they are, for a sentence: "Dr Claire Martin, doctor (general medicine), Lyon"."""
        what = _lowered(self.profession)
        if self.specialty:
            what = _("%(profession)s (%(specialty)s)") % {
                "profession": what,
                "specialty": _lowered(self.specialty),
            }
        parts = [self.name, what] + ([self.city] if self.city else [])
        return ", ".join(parts)


def _lowered(label: str) -> str:
    """A label inside a sentence: "Médecine générale" becomes "médecine générale", an acronym
    ("ORL") stays as it is."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


@dataclass(frozen=True)
class DirectorySearch:
    entries: list[DirectoryEntry]
    more: bool  # more practitioners match than are shown: the patient should add a word


def _rotations(words: list[str]) -> list[list[str]]:
    """The words in each rotation of their order ("claire martin", "martin claire")."""
    words = words[:MAX_SEARCH_WORDS]
    return [words[start:] + words[:start] for start in range(len(words))]


def _by_last_name(words: list[str]) -> Q:
    """A prefix of the stored key "last first", in any rotation: "mart", "martin cl"."""
    match = Q()
    for rotation in _rotations(words):
        match |= Q(search_key__startswith=" ".join(rotation))
    return match


def _by_first_name(words: list[str]) -> Q:
    """A prefix of the key "first last" whose first word is whole: "claire", "claire mar". A
    first name is typed whole; a prefix of it would bury the last names the patient is typing
    ("martin" would list every Martine first)."""
    match = Q()
    for rotation in _rotations(words):
        prefix = " ".join(rotation)
        # One word: the space after it says it is whole; more words: the first is followed by one.
        match |= Q(first_name_search_key__startswith=prefix if len(rotation) > 1 else prefix + " ")
    return match


def entry_of(profile: PractitionerProfile, block_id: int | None = None) -> DirectoryEntry:
    """How the portal names a practitioner wherever a patient chooses or reviews them (the
    search results, the readers of /access/): enough to tell two namesakes apart."""
    return DirectoryEntry(
        rpps=profile.rpps,
        first_name=profile.first_name,
        last_name=profile.last_name,
        profession=str(profile.get_profession_display()),
        specialty=profile.specialty,
        city=profile.city,
        is_doctor=profile.profession in DOCTORS,
        block_id=block_id,
    )


class HasPractitioner(Protocol):
    @property
    def practitioner(self) -> User: ...


Named = TypeVar("Named", bound=HasPractitioner)


def named(items: Iterable[Named]) -> list[tuple[Named, DirectoryEntry]]:
    """Each item (a reader, a request, a block) with its practitioner named as the search
    names them, for the pages that list them: one way of naming them everywhere."""
    return [(item, entry_of(item.practitioner.practitioner_profile)) for item in items]


def find_practitioners(
    query: str, patient: User, limit: int = SHOWN_PRACTITIONERS
) -> DirectorySearch:
    """Practitioners whose last name starts with ``query``, or whose first name is its first
    word ("claire", "claire mar"), accents and case ignored ("helene" finds "Hélène"); those
    found by their last name first. Empty below ``MIN_SEARCH_LETTERS`` letters (the form says
    so). Each entry carries ``patient``'s own active block on that practitioner, if any."""
    words = search_words(query)
    if len("".join(words)) < MIN_SEARCH_LETTERS:
        return DirectorySearch([], more=False)
    by_last_name = _by_last_name(words)
    blocked = Block.objects.active().filter(patient=patient, practitioner_id=OuterRef("user_id"))
    profiles = list(
        PractitionerProfile.objects.filter(by_last_name | _by_first_name(words))
        .annotate(
            last_name_first=Case(When(by_last_name, then=Value(0)), default=Value(1)),
            block_id=Subquery(blocked.values("pk")[:1]),
        )
        .order_by("last_name_first", "search_key", "city", "rpps")
        .only("rpps", "first_name", "last_name", "profession", "specialty", "city")[: limit + 1]
    )
    entries = [entry_of(profile, profile.block_id) for profile in profiles[:limit]]
    return DirectorySearch(entries, more=len(profiles) > limit)
