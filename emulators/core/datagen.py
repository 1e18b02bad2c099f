"""Realistic, reproducible test data: people, СНИЛС, ЕНП ОМС, ИИН, OIDs and GUIDs (X-4).

Every generator takes a ``random.Random`` so one seed reproduces a whole data set; nothing here
touches the global ``random`` module or does I/O.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from random import Random

from faker import Faker

# СНИЛС numbers up to 001-001-998 were issued before the checksum rule and carry arbitrary check digits.
_SNILS_CHECKED_FROM = 1_001_999
_SNILS_WEIGHTS = range(9, 0, -1)
_IIN_WEIGHTS_FIRST = tuple(range(1, 12))
_IIN_WEIGHTS_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
# ИИН 7th digit: (century start, digit for a man); a woman's digit is one more.
_IIN_CENTURIES = {1800: 1, 1900: 3, 2000: 5}
# ОКАТО codes of a few populous regions; the first two digits of an ЕНП are the issuing region.
_ENP_REGIONS = ("45", "40", "46", "71", "50", "65", "92", "80")
_KZ_MOBILE_CODES = ("700", "701", "702", "705", "707", "747", "771", "775", "776", "777", "778")
MO_OID_ROOT = "1.2.643.5.1.13.13.12.2"

# faker 40 has no kk_KZ locale, so Kazakh names come from these tables (Russian spelling, as Russian
# and Kazakh MIS registries store them); surnames are male forms, the female form appends "а".
_KZ_MALE_NAMES = (  # noqa: SIM905 - a word list reads better than one name per line
    "Нурлан Ерлан Асхат Бауыржан Данияр Серик Арман Айдос Алмас Тимур Марат Нурсултан Ербол Жандос "
    "Канат Талгат Берик Самат Азамат Даурен Ержан Максат Бекзат Олжас Мейрам Аслан Рустем Жанибек"
).split()
_KZ_FEMALE_NAMES = (  # noqa: SIM905 - a word list reads better than one name per line
    "Айгерим Динара Гульнара Асель Жанна Сауле Айжан Мадина Камила Алия Дана Жулдыз Аружан Балжан "
    "Гульмира Салтанат Айнур Назира Меруерт Толкын Жансая Ботагоз Индира Карлыгаш Дильназ"
).split()
_KZ_SURNAMES = (  # noqa: SIM905 - a word list reads better than one name per line
    "Ахметов Сериков Жумабаев Нурланов Касымов Абдрахманов Искаков Оспанов Сулейменов Бекмухамбетов "
    "Тулегенов Есенов Мусин Омаров Жакупов Байжанов Кенжебаев Ибраев Смагулов Нургалиев "
    "Кудайбергенов Садыков Тохтаров Ержанов Амиров Утепов Калиев Шарипов Рахимов Дуйсенов"
).split()

_faker_lock = threading.Lock()


@dataclass(frozen=True)
class Person:
    """A Russian patient or doctor with valid СНИЛС and ЕНП."""

    last_name: str
    first_name: str
    middle_name: str
    gender: str  # "1" male, "2" female (ФНСИ 1.2.643.5.1.13.13.11.1040)
    birthdate: dt.date
    snils: str
    enp: str
    phone: str
    email: str


@dataclass(frozen=True)
class KzPerson:
    """A Kazakh citizen identified by a valid ИИН."""

    last_name: str
    first_name: str
    middle_name: str
    gender: str  # "1" male, "2" female
    birthdate: dt.date
    iin: str
    phone: str
    email: str


def _is_digits(value: object, length: int) -> bool:
    """Whether value is a str of exactly length ASCII digits."""
    return isinstance(value, str) and len(value) == length and value.isascii() and value.isdigit()


def snils_check_digits(first9: str) -> str:
    """The two СНИЛС check digits for its first nine digits."""
    if not _is_digits(first9, 9):
        raise ValueError(f"СНИЛС body must be 9 digits, got {first9!r}")
    total = sum(int(d) * w for d, w in zip(first9, _SNILS_WEIGHTS, strict=True))
    if total < 100:
        return f"{total:02d}"
    return f"{total % 101 % 100:02d}"


def is_valid_snils(value: str) -> bool:
    """Whether value is an 11-digit СНИЛС whose check digits match (when the number requires it)."""
    if not _is_digits(value, 11):
        return False
    if int(value[:9]) < _SNILS_CHECKED_FROM:
        return True
    return value[9:] == snils_check_digits(value[:9])


def _has_triple_run(digits: str) -> bool:
    """Whether some digit repeats three times in a row."""
    return any(digits[i] == digits[i + 1] == digits[i + 2] for i in range(len(digits) - 2))


def make_snils(rng: Random) -> str:
    """A valid, checksum-bearing СНИЛС of 11 digits without separators."""
    while True:
        body = f"{rng.randint(_SNILS_CHECKED_FROM, 999_999_999):09d}"
        # Some MIS validators reject runs of three equal digits; avoid tripping them.
        if not _has_triple_run(body):
            return body + snils_check_digits(body)


def enp_check_digit(first15: str) -> str:
    """The ЕНП check digit: the ФОМС mod-10 scheme, which is exactly Luhn over the 16 digits.

    ФОМС: take the digits at odd positions from the right of the 15, read them as a number and double
    it, append the digits at even positions, sum all digits, check = (10 - sum % 10) % 10. Summing the
    digits of the doubled number equals summing the digit sums of each doubled digit, hence Luhn.
    """
    if not _is_digits(first15, 15):
        raise ValueError(f"ЕНП body must be 15 digits, got {first15!r}")
    total = 0
    for position, char in enumerate(reversed(first15), start=1):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit >= 5 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_enp(value: str) -> bool:
    """Whether value is a 16-digit ЕНП ОМС with a correct check digit (see enp_check_digit)."""
    return _is_digits(value, 16) and value[15] == enp_check_digit(value[:15])


def make_enp(rng: Random, okato: str | None = None) -> str:
    """A valid 16-digit ЕНП ОМС starting with a region's two-digit ОКАТО code."""
    region = okato if okato is not None else rng.choice(_ENP_REGIONS)
    body = f"{region}{rng.randrange(10**13):013d}"
    return body + enp_check_digit(body)


def iin_check_digit(first11: str) -> int | None:
    """The ИИН check digit for its first eleven digits, or None when no digit makes it valid."""
    if not _is_digits(first11, 11):
        raise ValueError(f"ИИН body must be 11 digits, got {first11!r}")
    digits = [int(d) for d in first11]
    for weights in (_IIN_WEIGHTS_FIRST, _IIN_WEIGHTS_SECOND):
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return check
    return None


def _iin_birthdate(value: str) -> dt.date | None:
    """The birth date encoded in an ИИН, or None when the date part or century digit is invalid."""
    century_digit = int(value[6])
    if not 1 <= century_digit <= 6:
        return None
    year = 1800 + 100 * ((century_digit - 1) // 2) + int(value[:2])
    try:
        return dt.date(year, int(value[2:4]), int(value[4:6]))
    except ValueError:
        return None


def is_valid_iin(value: str) -> bool:
    """Whether value is a 12-digit Kazakh ИИН with a real birth date and a correct check digit."""
    if not _is_digits(value, 12) or _iin_birthdate(value) is None:
        return False
    check = iin_check_digit(value[:11])
    return check is not None and int(value[11]) == check


def make_iin(rng: Random, birthdate: dt.date, male: bool) -> str:
    """A valid ИИН for a person born on birthdate, drawing serials until one has a check digit."""
    century = birthdate.year // 100 * 100
    if century not in _IIN_CENTURIES:
        raise ValueError(f"ИИН cannot encode birth year {birthdate.year}")
    sex_digit = _IIN_CENTURIES[century] + (0 if male else 1)
    prefix = f"{birthdate:%y%m%d}{sex_digit}"
    while True:
        body = f"{prefix}{rng.randrange(10_000):04d}"
        check = iin_check_digit(body)
        if check is not None:
            return f"{body}{check}"


def make_guid(rng: Random) -> str:
    """A lower-case hyphenated UUID4 drawn from rng."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_mo_oid(rng: Random, region: int = 86) -> str:
    """A medical organisation OID in the ФРМО arc, e.g. 1.2.643.5.1.13.13.12.2.86.8902."""
    return f"{MO_OID_ROOT}.{region}.{rng.randint(1000, 9999)}"


def make_depart_oid(rng: Random, mo_oid: str) -> str:
    """A structural subdivision (depart) OID under mo_oid, e.g. <mo_oid>.0.163227."""
    return f"{mo_oid}.0.{rng.randint(100_000, 999_999)}"


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day years earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _birthdate(rng: Random, today: dt.date, age_range: tuple[int, int]) -> dt.date:
    """A birth date giving a full age within age_range (inclusive) on today."""
    youngest, oldest = age_range
    earliest = _years_before(today, oldest + 1) + dt.timedelta(days=1)
    latest = _years_before(today, youngest)
    return earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))


@functools.cache
def _faker(locale: str) -> Faker:
    """One Faker per locale: building one costs far more than reseeding it."""
    return Faker(locale)


@contextlib.contextmanager
def _seeded_faker(rng: Random, locale: str) -> Iterator[Faker]:
    """The cached Faker for locale, reseeded from rng and held exclusively while in use."""
    seed = rng.getrandbits(32)
    # The cached Faker is shared, so seeding and drawing must not interleave between threads.
    with _faker_lock:
        fake = _faker(locale)
        fake.seed_instance(seed)
        yield fake


def _russian_name(rng: Random, male: bool, locale: str) -> tuple[str, str, str, str]:
    """Gender-consistent (last, first, middle) names and an e-mail from a Faker seeded by rng."""
    with _seeded_faker(rng, locale) as fake:
        if male:
            names = (fake.last_name_male(), fake.first_name_male(), fake.middle_name_male())
        else:
            names = (fake.last_name_female(), fake.first_name_female(), fake.middle_name_female())
        return (*names, fake.free_email())


def _email(rng: Random) -> str:
    """A free-mail address from a Faker seeded by rng."""
    with _seeded_faker(rng, "ru_RU") as fake:
        return str(fake.free_email())


def make_street_address(rng: Random, faker_locale: str = "ru_RU") -> str:
    """A street and house part of an address, e.g. "ул. Промышленная, д. 3"."""
    with _seeded_faker(rng, faker_locale) as fake:
        return str(fake.street_address())


def make_person(
    rng: Random,
    faker_locale: str = "ru_RU",
    age_range: tuple[int, int] = (0, 90),
    *,
    today: dt.date,
) -> Person:
    """A Russian person whose names agree with the gender and whose СНИЛС and ЕНП are valid."""
    male = rng.random() < 0.5
    birthdate = _birthdate(rng, today, age_range)
    last, first, middle, email = _russian_name(rng, male, faker_locale)
    return Person(
        last_name=last,
        first_name=first,
        middle_name=middle,
        gender="1" if male else "2",
        birthdate=birthdate,
        snils=make_snils(rng),
        enp=make_enp(rng),
        phone=f"+79{rng.randrange(10**9):09d}",
        email=email,
    )


def _kz_patronymic(father: str, male: bool) -> str:
    """The Russian-form patronymic (-ович / -овна) used in Kazakh documents written in Russian."""
    return father + ("ович" if male else "овна")


def make_kz_person(rng: Random, today: dt.date, age_range: tuple[int, int] = (0, 90)) -> KzPerson:
    """A Kazakh person with gender-consistent names and a valid ИИН matching birth date and sex."""
    male = rng.random() < 0.5
    birthdate = _birthdate(rng, today, age_range)
    surname = rng.choice(_KZ_SURNAMES)
    first = rng.choice(_KZ_MALE_NAMES if male else _KZ_FEMALE_NAMES)
    middle = _kz_patronymic(rng.choice(_KZ_MALE_NAMES), male)
    return KzPerson(
        last_name=surname if male else surname + "а",
        first_name=first,
        middle_name=middle,
        gender="1" if male else "2",
        birthdate=birthdate,
        iin=make_iin(rng, birthdate, male),
        phone=f"+7{rng.choice(_KZ_MOBILE_CODES)}{rng.randrange(10**7):07d}",
        email=_email(rng),
    )
