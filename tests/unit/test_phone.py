from __future__ import annotations

import pytest

from coordinator.errors import Invalid
from coordinator.people.field_rules import normalize_id_number, normalize_phone
from tests.sheets import id_number, with_wrong_check_digit


@pytest.mark.parametrize(
    "text",
    [
        "13812341234",
        "+86 138-1234-1234",
        "8613812341234",
        "0086 13812341234",
        "(+86)138 1234 1234",
        " 138-1234-1234 ",
    ],
)
def test_mainland_mobiles_normalize_to_e164(text: str) -> None:
    assert normalize_phone(text) == "+8613812341234"


@pytest.mark.parametrize("text", ["19912345678", "17012345678", "14512345678", "16612345678"])
def test_newer_mobile_prefixes_are_accepted(text: str) -> None:
    assert normalize_phone(text) == f"+86{text}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "12345",
        "1381234123",  # one digit short
        "138123412345",  # one digit long
        "0855-8221234",  # a Kaili landline
        "+85291234567",  # Hong Kong mobile
        "+1 650 253 0000",
        "12012345678",  # no such mobile prefix
    ],
)
def test_anything_but_a_mainland_mobile_is_invalid_phone(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalize_phone(text)
    assert (caught.value.code, caught.value.field) == ("invalid_phone", "phone")
    assert "手机号" in caught.value.message


def test_field_name_is_kept_for_other_phone_fields() -> None:
    with pytest.raises(Invalid) as caught:
        normalize_phone("1", field="contact_phone")
    assert caught.value.field == "contact_phone"


def test_id_number_with_correct_check_digit_is_upper_cased() -> None:
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert normalize_id_number(id_number()) == id_number()


@pytest.mark.parametrize(
    "text",
    [
        with_wrong_check_digit("11010519491231002X"),
        "11010519491231002",  # 17 characters
        "1101051949123100211",  # 19 characters
        "1101051949123100A2",
        "110105194902301236",  # February 30
        "110105194913011236",  # month 13
    ],
)
def test_bad_id_numbers_are_invalid(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalize_id_number(text)
    assert (caught.value.code, caught.value.field) == ("invalid_id_number", "id_number")
