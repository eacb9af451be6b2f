"""Masked display and the checks of ID and phone numbers."""

import datetime as dt

import pytest

from anwang.core.errors import ServiceError
from anwang.people.choices import Gender
from anwang.people.masking import is_masked, mask_id_number, mask_phone
from anwang.people.tests.conftest import make_id
from anwang.people.validation import id_number_parse, phone_normalise


def test_id_number_keeps_first_six_and_last_four():
    assert mask_id_number("110101199001011234") == "110101********1234"


def test_mobile_keeps_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


def test_landline_keeps_area_code_and_last_four():
    assert mask_phone("0571-87654321") == "0571-****4321"
    assert mask_phone("010-12345678-123") == "010-****5678"


@pytest.mark.parametrize("value", ["A1234567", "12345", "abc", "123456789012"])
def test_odd_values_are_at_least_half_hidden(value):
    masked = mask_id_number(value)
    assert len(masked) == len(value)
    assert masked.count("*") >= len(value) / 2
    masked_phone = mask_phone(value)
    assert masked_phone.count("*") >= len(value) / 2


def test_empty_values_stay_empty():
    assert mask_id_number("") == ""
    assert mask_phone("") == ""


def test_masked_values_are_recognised():
    assert is_masked("138****5678")
    assert not is_masked("13812345678")


def test_valid_id_number_states_birth_date_and_gender():
    facts = id_number_parse(make_id("19851231", "124"))
    assert facts.birth_date == dt.date(1985, 12, 31)
    assert facts.gender == Gender.FEMALE
    assert id_number_parse(make_id("19900101", "123")).gender == Gender.MALE


def test_check_character_x_is_accepted_in_either_case():
    # 11010519491231002X is the standard's own example.
    assert id_number_parse("11010519491231002x").birth_date == dt.date(1949, 12, 31)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("110101199001011234", "last character"),  # wrong check digit
        ("11010119900101123", "18 characters"),  # too short
        ("11010119901301123X", "not a real date"),  # month 13
        ("010101199001011237", "18 characters"),  # region cannot start with 0
    ],
)
def test_invalid_id_numbers_are_refused(value, fragment, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"), pytest.raises(ServiceError) as raised:
        id_number_parse(value)
    assert fragment in str(raised.value.message)
    assert raised.value.field == "id_number"


def test_future_birth_date_is_refused():
    with pytest.raises(ServiceError):
        id_number_parse(make_id("29990101"))


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("0571-87654321", "0571-87654321"),
        ("(0571) 8765 4321", "0571-87654321"),
        ("057187654321", "0571-87654321"),
        ("010-12345678", "010-12345678"),
        ("02712345678", "027-12345678"),
        ("0571-87654321-123", "0571-87654321-123"),
        ("0571-87654321转8", "0571-87654321-8"),
        ("", ""),
    ],
)
def test_phone_numbers_are_normalised(raw, normal):
    assert phone_normalise(raw) == normal


@pytest.mark.parametrize(
    "raw", ["12812345678", "1381234567", "138123456789", "87654321", "phone", "0571-123"]
)
def test_invalid_phone_numbers_are_refused(raw):
    with pytest.raises(ServiceError) as raised:
        phone_normalise(raw)
    assert raised.value.field == "phone"
