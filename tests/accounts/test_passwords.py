"""Password rules: length 12 to 128, no common password, nothing personal, no composition rule."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.accounts.factories import PractitionerProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def refusal_codes(password, user=None) -> set[str | None]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return {e.code for e in error.error_list}
    return set()


def test_argon2_is_the_first_password_hasher():
    user = UserFactory()
    assert user.password.startswith("argon2$argon2id$")


def test_a_long_plain_phrase_is_accepted_without_composition_rules():
    assert refusal_codes("le chat dort sur le radiateur") == set()


def test_length_limits_are_12_to_128_characters():
    assert "password_too_short" in refusal_codes("ours brun 1")  # 11 characters
    assert refusal_codes("ours brun 12") == set()
    long_phrase = ("une phrase longue " * 8)[:128]
    assert len(long_phrase) == 128 and refusal_codes(long_phrase) == set()
    assert "password_too_long" in refusal_codes(long_phrase + "x")


def test_common_passwords_are_refused_including_french_ones():
    assert "password_too_common" in refusal_codes("password1234")
    assert "password_too_common" in refusal_codes("Azertyuiop123")
    assert "password_too_common" in refusal_codes("MotDePasse123")


def test_password_containing_the_practitioners_name_or_rpps_is_refused():
    profile = PractitionerProfileFactory(last_name="Lefèvre-Dubois", first_name="Anne")
    user = profile.user
    assert "password_personal_data" in refusal_codes("ma vie de lefevre au soleil", user)
    assert "password_personal_data" in refusal_codes(f"code{profile.rpps}vacances", user)
    assert refusal_codes("une phrase sans rapport du tout", user) == set()


def test_password_containing_nir_or_birth_date_is_refused():
    user = UserFactory.build()
    user._password_personal_data = ["1 85 05 78 006 084 91", "1985-05-14"]
    assert "password_personal_data" in refusal_codes("secret 1850578006084 ici", user)
    assert "password_personal_data" in refusal_codes("ne le 14/05/1985 a paris", user)
    assert "password_personal_data" in refusal_codes("anniversaire 19850514 !!", user)
    assert refusal_codes("une phrase sans rapport du tout", user) == set()
