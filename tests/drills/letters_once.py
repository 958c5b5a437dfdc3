"""What the worker and broker drills verify in the end: every person got exactly one creation
letter, carrying exactly one code that opens their record, and nothing else works.

Read as the person and the portal would: the letter's PDF is decrypted from the storage and its
code typed into the real code check (``enrollment.services.activation.check_code``); every
other file the storage holds for the same letter (a rendering killed after its write, before its
commit) is read too, and its code must be refused.
"""

from __future__ import annotations

import io
from collections import Counter

from django.core.files.storage import default_storage
from pypdf import PdfReader

from dmp_portal.crypto.files import open_decrypted
from enrollment import codes
from enrollment.models import Beneficiary, CreationCode
from enrollment.services.activation import ActivationRefused, check_code
from enrollment.services.registry import CREATION_LETTER
from letters.models import Letter, LetterState
from tests.drills.report import Drill
from tests.letters.reading import CODE_RE


def rendered_count(people: list[Beneficiary]) -> int:
    return Letter.objects.filter(
        subject_uid__in=[person.uid for person in people], state=LetterState.RENDERED
    ).count()


def _code_in(name: str, letter: Letter) -> str:
    pdf = b"".join(open_decrypted(default_storage, name, letter.data_key, letter.pdf_aad()))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    match = CODE_RE.search(text)
    assert match, f"no code printed in {name}"
    return match.group(1)


def _client(number: int) -> str:
    # One address per try: the per-client throttle of code tries must not be what refuses.
    return f"10.99.{number // 250}.{number % 250 + 1}"


def verify_one_letter_and_one_code(drill: Drill, people: list[Beneficiary]) -> None:
    uids = {person.uid for person in people}
    letters = list(
        Letter.objects.filter(subject_uid__in=uids).select_related("data_key").order_by("pk")
    )
    per_person = Counter(letter.subject_uid for letter in letters)
    missing = uids - set(per_person)
    twice = {uid for uid, count in per_person.items() if count > 1}
    assert not missing, f"{len(missing)} person(s) got no letter"
    assert not twice, f"{len(twice)} person(s) got more than one letter"
    assert {letter.kind for letter in letters} == {CREATION_LETTER}
    states = Counter(letter.state for letter in letters)
    assert states == {LetterState.RENDERED: len(people)}, f"letters by state: {dict(states)}"
    drill.verified(f"{len(people)} people, one creation letter each, all rendered, none twice")

    codes_per_person = Counter(
        CreationCode.objects.filter(beneficiary__in=people).values_list("beneficiary", flat=True)
    )
    assert codes_per_person == Counter({person.pk: 1 for person in people}), (
        "not exactly one code per person: "
        f"{sorted(count for count in codes_per_person.values() if count != 1)}"
    )
    drill.verified("exactly one code issued per person (no rendering left a second one)")

    stored = default_storage.listdir("letters")[1]
    by_person = {person.uid: person for person in people}
    tries = 0
    leftovers = 0
    for letter in letters:
        person = by_person[letter.subject_uid]
        code = _code_in(letter.pdf_name, letter)
        expected = CreationCode.objects.get(beneficiary=person)
        tries += 1
        assert check_code(_client(tries), person.nir, codes.normalise(code)) == expected.pk
        # Files of this same letter besides the one it names: a rendering whose worker died
        # between writing the file and committing. Their code was rolled back with them.
        others = [
            f"letters/{name}"
            for name in stored
            if name.startswith(str(letter.uid)) and f"letters/{name}" != letter.pdf_name
        ]
        for name in others:
            leftovers += 1
            tries += 1
            try:
                check_code(_client(tries), person.nir, codes.normalise(_code_in(name, letter)))
            except ActivationRefused:
                continue
            raise AssertionError(f"the code of a leftover file {name} still opens a record")
    drill.verified(
        f"each letter's printed code opens its person's record through the real code check "
        f"({len(letters)} checked); {leftovers} leftover file(s) of killed renderings, "
        "whose codes are refused"
    )
