"""Generated people and identifiers are valid, realistic and reproducible from a seed (X-4)."""

from __future__ import annotations

import datetime as dt
import re
from random import Random

import pytest
from faker.providers.person.ru_RU import Provider as RuNames

from emulators.core import datagen
from emulators.core.datagen import (
    enp_check_digit,
    iin_check_digit,
    is_valid_enp,
    is_valid_iin,
    is_valid_snils,
    make_depart_oid,
    make_enp,
    make_guid,
    make_iin,
    make_kz_person,
    make_mo_oid,
    make_person,
    make_snils,
    snils_check_digits,
)

TODAY = dt.date(2024, 9, 2)
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# --- СНИЛС ---------------------------------------------------------------------------------------


@pytest.mark.req("X-4")
def test_classic_snils_example_is_valid() -> None:
    # 112-233-445 95: 1*9+1*8+2*7+2*6+3*5+3*4+4*3+4*2+5*1 = 95
    assert is_valid_snils("11223344595")
    assert snils_check_digits("112233445") == "95"


@pytest.mark.req("X-4")
def test_document_snils_example_fails_its_checksum() -> None:
    # 111-475-350 28: 9+8+7+24+35+20+9+10+0 = 122, 122 mod 101 = 21, so "28" is not its check number
    assert snils_check_digits("111475350") == "21"
    assert not is_valid_snils("11147535028")
    assert is_valid_snils("11147535021")


@pytest.mark.req("X-4")
@pytest.mark.parametrize(
    ("first9", "check"),
    [
        ("001019899", "99"),  # sum 99: below 100, taken as is
        ("001019989", "00"),  # sum 100
        ("001019998", "00"),  # sum 101
        ("001019999", "01"),  # sum 102 -> 102 mod 101
        ("002999989", "00"),  # sum 201 -> 201 mod 101 = 100 -> "00"
        ("002999998", "00"),  # sum 202 -> 0
    ],
)
def test_snils_check_digits_at_the_boundaries(first9: str, check: str) -> None:
    assert snils_check_digits(first9) == check


@pytest.mark.req("X-4")
def test_snils_up_to_001_001_998_accepts_any_check_digits() -> None:
    assert is_valid_snils("00100199800")
    assert is_valid_snils("00100199899")
    # 001-001-999 is the first checked number: 7+4+27+18+9 = 65
    assert is_valid_snils("00100199965")
    assert not is_valid_snils("00100199900")


@pytest.mark.req("X-4")
@pytest.mark.parametrize(
    "value", ["", "1122334459", "112233445950", "112-233-445 95", "1122334459a", None, 11223344595]
)
def test_snils_of_wrong_shape_is_invalid(value: object) -> None:
    assert not is_valid_snils(value)  # type: ignore[arg-type]


@pytest.mark.req("X-4")
def test_made_snils_are_valid_and_checked_numbers() -> None:
    rng = Random(1)
    for _ in range(2000):
        snils = make_snils(rng)
        assert len(snils) == 11 and snils.isdigit()
        assert int(snils[:9]) > 1_001_998
        assert is_valid_snils(snils)


# --- ЕНП ОМС -------------------------------------------------------------------------------------


def _enp_check_as_fund_describes(first15: str) -> str:
    """The ФОМС wording, step by step: odd-from-right digits as a number times two, then the rest."""
    from_right = first15[::-1]
    odd = "".join(from_right[0::2])[::-1]
    even = "".join(from_right[1::2])[::-1]
    total = sum(int(d) for d in str(int(odd) * 2) + even)
    return str((10 - total % 10) % 10)


@pytest.mark.req("X-4")
def test_enp_hand_example() -> None:
    # 123456789012345: odd-from-right digits 5,3,1,9,7,5,3,1 doubled give digit sums 1+6+2+9+5+1+6+2 = 32,
    # even-from-right digits 4+2+0+8+6+4+2 = 26; 58 -> check digit 2
    assert enp_check_digit("123456789012345") == "2"
    assert is_valid_enp("1234567890123452")
    assert not is_valid_enp("1234567890123453")


@pytest.mark.req("X-4")
def test_enp_check_digit_matches_the_fund_wording() -> None:
    rng = Random(7)
    for _ in range(2000):
        body = f"{rng.randrange(10**15):015d}"
        assert enp_check_digit(body) == _enp_check_as_fund_describes(body)


@pytest.mark.req("X-4")
def test_enp_detects_any_single_digit_error() -> None:
    enp = make_enp(Random(3))
    for position in range(16):
        for digit in "0123456789":
            if digit != enp[position]:
                assert not is_valid_enp(enp[:position] + digit + enp[position + 1 :])


@pytest.mark.req("X-4")
@pytest.mark.parametrize("value", ["", "123456789012345", "12345678901234520", "12345678901234a2", None])
def test_enp_of_wrong_shape_is_invalid(value: object) -> None:
    assert not is_valid_enp(value)  # type: ignore[arg-type]


@pytest.mark.req("X-4")
def test_made_enp_are_valid_and_carry_the_region() -> None:
    rng = Random(2)
    assert all(is_valid_enp(make_enp(rng)) for _ in range(500))
    assert make_enp(rng, okato="71").startswith("71")


# --- ИИН ------------------------------------------------------------------------------------------


@pytest.mark.req("X-4")
def test_iin_hand_example_first_weights() -> None:
    # 1990-05-15, man of the 1900s (3), serial 0001:
    # 9*1+0*2+0*3+5*4+1*5+5*6+3*7+0*8+0*9+0*10+1*11 = 96, 96 mod 11 = 8
    assert iin_check_digit("90051530001") == 8
    assert is_valid_iin("900515300018")
    assert not is_valid_iin("900515300017")


@pytest.mark.req("X-4")
def test_iin_hand_example_second_weights() -> None:
    # serial 0090: first weights give 9+20+5+30+21+90 = 175, 175 mod 11 = 10, so reweight with 3..11,1,2:
    # 27+30+7+40+27+9 = 140, 140 mod 11 = 8
    assert iin_check_digit("90051530090") == 8
    assert is_valid_iin("900515300908")


@pytest.mark.req("X-4")
def test_iin_without_a_possible_check_digit_is_invalid() -> None:
    # serial 0091: first weights 186 mod 11 = 10, second weights 142 mod 11 = 10
    assert iin_check_digit("90051530091") is None
    assert not any(is_valid_iin(f"90051530091{d}") for d in range(10))


@pytest.mark.req("X-4")
@pytest.mark.parametrize(
    "value",
    [
        "901315300018",  # month 13
        "900230300015",  # 30 February
        "900515000015",  # century digit 0
        "900515700015",  # century digit 7
        "90051530001",
        "9005153000188",
        "90051530001x",
        None,
    ],
)
def test_iin_of_wrong_shape_or_date_is_invalid(value: object) -> None:
    assert not is_valid_iin(value)  # type: ignore[arg-type]


@pytest.mark.req("X-4")
@pytest.mark.parametrize(
    ("birthdate", "male", "century_digit"),
    [
        (dt.date(1899, 12, 31), True, "1"),
        (dt.date(1899, 1, 1), False, "2"),
        (dt.date(1990, 5, 15), True, "3"),
        (dt.date(1964, 2, 29), False, "4"),
        (dt.date(2000, 1, 1), True, "5"),
        (dt.date(2016, 2, 29), False, "6"),
    ],
)
def test_made_iin_encodes_birthdate_and_sex(birthdate: dt.date, male: bool, century_digit: str) -> None:
    rng = Random(5)
    for _ in range(300):
        iin = make_iin(rng, birthdate, male)
        assert is_valid_iin(iin)
        assert iin[:6] == birthdate.strftime("%y%m%d")
        assert iin[6] == century_digit


@pytest.mark.req("X-4")
def test_make_iin_rejects_unencodable_years() -> None:
    with pytest.raises(ValueError):
        make_iin(Random(0), dt.date(2101, 1, 1), True)


# --- GUIDs and OIDs -------------------------------------------------------------------------------


@pytest.mark.req("X-4")
def test_guid_is_lower_case_uuid4_and_reproducible() -> None:
    guids = [make_guid(Random(9)) for _ in range(2)]
    assert guids[0] == guids[1]
    rng = Random(9)
    assert all(GUID.match(make_guid(rng)) for _ in range(1000))


@pytest.mark.req("X-4")
def test_oids_follow_the_frmo_shape() -> None:
    rng = Random(4)
    mo_oid = make_mo_oid(rng)
    assert re.fullmatch(r"1\.2\.643\.5\.1\.13\.13\.12\.2\.86\.\d{4}", mo_oid)
    assert re.fullmatch(r"1\.2\.643\.5\.1\.13\.13\.12\.2\.77\.\d{4}", make_mo_oid(rng, region=77))
    assert re.fullmatch(re.escape(mo_oid) + r"\.0\.\d{6}", make_depart_oid(rng, mo_oid))


# --- People ---------------------------------------------------------------------------------------


@pytest.mark.req("X-4")
def test_person_is_reproducible_from_seed() -> None:
    first = [make_person(Random(42), today=TODAY) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    rng_a, rng_b = Random(11), Random(11)
    assert [make_person(rng_a, today=TODAY) for _ in range(20)] == [make_person(rng_b, today=TODAY) for _ in range(20)]
    assert make_person(Random(1), today=TODAY) != make_person(Random(2), today=TODAY)


@pytest.mark.req("X-4")
def test_person_is_reproducible_regardless_of_other_draws() -> None:
    expected = make_person(Random(5), today=TODAY)
    make_person(Random(99), faker_locale="ru_RU", today=TODAY)
    assert make_person(Random(5), today=TODAY) == expected


@pytest.mark.req("X-4")
def test_person_names_agree_with_gender() -> None:
    rng = Random(8)
    people = [make_person(rng, today=TODAY) for _ in range(300)]
    assert {p.gender for p in people} == {"1", "2"}
    for p in people:
        male = p.gender == "1"
        assert p.first_name in (RuNames.first_names_male if male else RuNames.first_names_female)
        assert p.last_name in (RuNames.last_names_male if male else RuNames.last_names_female)
        assert p.middle_name in (RuNames.middle_names_male if male else RuNames.middle_names_female)
        assert p.middle_name.endswith("ич" if male else "на")


@pytest.mark.req("X-4")
def test_person_identifiers_and_contacts_are_valid() -> None:
    rng = Random(6)
    for _ in range(200):
        p = make_person(rng, age_range=(18, 65), today=TODAY)
        assert is_valid_snils(p.snils) and is_valid_enp(p.enp)
        assert re.fullmatch(r"\+7\d{10}", p.phone)
        assert "@" in p.email
        age = TODAY.year - p.birthdate.year - ((TODAY.month, TODAY.day) < (p.birthdate.month, p.birthdate.day))
        assert 18 <= age <= 65


@pytest.mark.req("X-4")
def test_person_age_range_covers_both_ends() -> None:
    rng = Random(12)
    births = {make_person(rng, age_range=(0, 0), today=TODAY).birthdate for _ in range(200)}
    assert max(births) <= TODAY
    assert min(births) > dt.date(2023, 9, 2)


@pytest.mark.req("X-4")
def test_kz_person_is_valid_gendered_and_reproducible() -> None:
    rng = Random(13)
    people = [make_kz_person(rng, TODAY) for _ in range(300)]
    assert {p.gender for p in people} == {"1", "2"}
    for p in people:
        male = p.gender == "1"
        assert is_valid_iin(p.iin)
        assert p.iin[:6] == p.birthdate.strftime("%y%m%d")
        assert int(p.iin[6]) % 2 == (1 if male else 0)
        assert p.first_name in (datagen._KZ_MALE_NAMES if male else datagen._KZ_FEMALE_NAMES)
        assert p.last_name.endswith(("ов", "ев", "ин") if male else ("ова", "ева", "ина"))
        assert p.middle_name.endswith("ович" if male else "овна")
        assert re.fullmatch(r"\+77\d{9}", p.phone)
    assert make_kz_person(Random(3), TODAY) == make_kz_person(Random(3), TODAY)
