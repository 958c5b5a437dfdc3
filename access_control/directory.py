"""Reads of the practitioners' directory for the patient who gives access (/access/).

Every practitioner of the directory is found, whether or not they activated their account:
a patient may give access before the practitioner's first login. Names, profession, specialty
and city are the public data of the national directory (accounts.users).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import PractitionerProfile, Profession
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


def _matching(words: list[str]) -> Q:
    """A prefix of the stored key ("last first"), the words in each rotation of their order."""
    words = words[:MAX_SEARCH_WORDS]
    match = Q()
    for start in range(len(words)):
        match |= Q(search_key__startswith=" ".join(words[start:] + words[:start]))
    return match


def find_practitioners(query: str, limit: int = SHOWN_PRACTITIONERS) -> DirectorySearch:
    """Practitioners whose name starts with ``query``, accents and case ignored ("helene"
    finds "Hélène"); empty below ``MIN_SEARCH_LETTERS`` letters (the form says so)."""
    words = search_words(query)
    if len("".join(words)) < MIN_SEARCH_LETTERS:
        return DirectorySearch([], more=False)
    profiles = list(
        PractitionerProfile.objects.filter(_matching(words))
        .order_by("search_key", "city", "rpps")
        .only("rpps", "first_name", "last_name", "profession", "specialty", "city")[: limit + 1]
    )
    entries = [
        DirectoryEntry(
            rpps=profile.rpps,
            first_name=profile.first_name,
            last_name=profile.last_name,
            profession=str(profile.get_profession_display()),
            specialty=profile.specialty,
            city=profile.city,
            is_doctor=profile.profession in DOCTORS,
        )
        for profile in profiles[:limit]
    ]
    return DirectorySearch(entries, more=len(profiles) > limit)
