"""A realistic, reproducible region for the FER 2.0 data showcase («Витрина данных», Приложение 1).

Each showcase "MO" record is a structural subdivision; real organisations run one to three of them, so
``mo_count`` subdivisions are spread over fewer medical organisation OIDs, each with its own login.
The region is Ханты-Мансийский автономный округ – Югра (86), the region of the seed's OID examples.
Directory codes (posts, profiles, services) follow the ФНСИ directories the seed names; speciality
codes (1.2.643.5.1.13.13.11.1066) are illustrative and not checked against a current FNSI version.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from random import Random
from typing import Any

from emulators.core.datagen import (
    make_depart_oid,
    make_guid,
    make_mo_oid,
    make_person,
    make_street_address,
)

Record = dict[str, Any]

REGION_CODE = 86
REGION_OKATO = "71100000000"
REGION_TITLE = "Ханты-Мансийский автономный округ – Югра"
MAX_MO_COUNT = 9000  # one four-digit OID per organisation at most, and an organisation has a subdivision
UPLOAD_ORDER = (
    "mo",
    "resource",
    "profilecode_resource",
    "service",
    "slot",
    "unaccessable_period",
    "referral",
)
DAY_START_MINUTE = 8 * 60
WORKDAY_MINUTES = 10 * 60  # 08:00-18:00
SLOT_DURATIONS = {"SPECIALIST": (15, 20, 30), "MACHINE": (20, 30), "ROOM": (15,)}
RECORDED_SHARE = 0.15
UNAVAILABLE_SHARE = 0.05
ENABLED = (("ALL", 0.6), ("ATTACHED_MO", 0.3), ("ATTACHED_REG", 0.1))
TAG_TYPES = (("EPGU", 0.45), ("EPGU,REGISTRY", 0.3), ("REGISTRY", 0.15), ("REFERRAL", 0.1))
RESEARCH_TAG_TYPES = (("REFERRAL", 0.4), ("EPGU,REGISTRY", 0.4), ("REGISTRY", 0.2))
# Codes from ФНСИ 1.2.643.5.1.13.13.11.1009; the showcase only needs them present and stable.
REFERRAL_TYPE_CODES = {"CONSULTATION": "3", "RESEARCH": "4"}
PASSWORD_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Post:
    """A doctor's post with the codes the showcase links to it."""

    post_id: str
    name: str
    speciality_id: str
    profile_code: str
    service_code: str
    age: str  # ADULT, CHILD or ALL: whom the post sees
    sees_babies: bool = False


POSTS = {
    p.post_id: p
    for p in (
        Post("110", "врач-терапевт участковый", "75", "97", "B01.047.001", "ADULT"),
        Post("59", "врач-педиатр участковый", "49", "68", "B01.031.001", "CHILD", sees_babies=True),
        Post("49", "врач общей практики (семейный врач)", "40", "57", "B01.026.001", "ALL"),
        Post("122", "врач-хирург", "81", "112", "B01.057.001", "ADULT"),
        Post("13", "врач-акушер-гинеколог", "2", "136", "B01.001.001", "ADULT"),
        Post("54", "врач-офтальмолог", "46", "65", "B01.029.001", "ALL"),
        Post("53", "врач-оториноларинголог", "45", "162", "B01.028.001", "ALL"),
        Post("100", "врач-стоматолог", "68", "85", "B01.065.007", "ALL"),
        Post("103", "врач-стоматолог-терапевт", "70", "89", "B01.065.001", "ADULT"),
        Post("101", "врач-стоматолог детский", "67", "86", "B01.064.003", "CHILD"),
        Post("83", "врач-психиатр детский", "52", "72", "B01.035.003", "CHILD"),
        Post("119", "врач-фтизиатр", "78", "116", "B01.055.001", "ALL"),
        Post("87", "врач-психиатр-нарколог", "53", "73", "B01.036.001", "ADULT"),
        Post("28", "врач-детский хирург", "21", "20", "B01.010.001", "CHILD"),
        Post("120", "врач-фтизиатр участковый", "78", "116", "B01.055.001", "ALL"),
    )
}
PRIMARY_CARE_POSTS = frozenset({"110", "59", "49"})


@dataclass(frozen=True)
class Equipment:
    """A machine or a room with the profile and services it provides."""

    type: str  # MACHINE or ROOM
    name: str
    profile_code: str
    services: tuple[tuple[str, str], ...]  # (code from 1.2.643.5.1.13.13.11.1070, name)


_ECG = ("A05.10.006", "Регистрация электрокардиограммы")
_BLOOD = ("A11.12.009", "Взятие крови из периферической вены")
MACHINES = (
    Equipment("MACHINE", "Электрокардиограф Schiller Cardiovit AT-102 G2", "97", (_ECG,)),
    Equipment(
        "MACHINE",
        "Аппарат ультразвуковой диагностики Mindray DC-70",
        "106",
        (
            ("A04.16.001", "Ультразвуковое исследование органов брюшной полости (комплексное)"),
            ("A04.22.001", "Ультразвуковое исследование щитовидной железы и паращитовидных желез"),
        ),
    ),
    Equipment("MACHINE", "Флюорограф цифровой ФЦ-01-«Электрон»", "78", (("A06.09.006", "Флюорография легких"),)),
    Equipment("MACHINE", "Маммограф цифровой Fujifilm Amulet Innovality", "78", (("A06.20.004", "Маммография"),)),
    Equipment(
        "MACHINE",
        "Томограф компьютерный Philips Ingenuity CT",
        "78",
        (("A06.09.005", "Компьютерная томография органов грудной полости"),),
    ),
)
DENTAL_MACHINES = (
    Equipment(
        "MACHINE",
        "Рентгеновский аппарат дентальный Planmeca ProX",
        "78",
        (("A06.07.003", "Прицельная внутриротовая контактная рентгенография"),),
    ),
)
ROOMS = (
    Equipment(
        "ROOM",
        "Процедурный кабинет",
        "97",
        (_BLOOD, ("A11.02.002", "Внутримышечное введение лекарственных препаратов")),
    ),
    Equipment("ROOM", "Кабинет забора крови", "34", (_BLOOD, ("A11.05.001", "Взятие крови из пальца"))),
    Equipment(
        "ROOM",
        "Кабинет функциональной диагностики",
        "97",
        (_ECG, ("A12.09.001", "Исследование неспровоцированных дыхательных объемов и потоков")),
    ),
    Equipment("ROOM", "Кабинет измерения внутриглазного давления", "65", (("A02.26.015", "Офтальмотонометрия"),)),
)


@dataclass(frozen=True)
class OrgKind:
    """A kind of medical organisation: whom it serves, its subdivisions, staff and equipment."""

    title: str  # feminine, to follow the city adjective
    tag_ages: tuple[str, ...]
    subdivisions: tuple[str, ...]
    post_ids: tuple[str, ...]
    machines: tuple[Equipment, ...]
    rooms: tuple[Equipment, ...]
    weight: float


ORG_KINDS = (
    OrgKind(
        "городская поликлиника",
        ("ADULT", "ALL"),
        ("поликлиническое отделение", "терапевтическое отделение", "отделение общей врачебной практики"),
        ("110", "49", "122", "13", "54", "53", "119", "120", "87"),
        MACHINES,
        ROOMS,
        5,
    ),
    OrgKind(
        "детская городская поликлиника",
        ("CHILD",),
        ("педиатрическое отделение", "детское поликлиническое отделение"),
        ("59", "28", "54", "53", "101", "83", "49", "120"),
        MACHINES[:2],
        ROOMS,
        2,
    ),
    OrgKind(
        "городская больница",
        ("ALL",),
        ("поликлиника", "консультативно-диагностическое отделение", "амбулаторно-поликлиническое отделение"),
        ("110", "59", "49", "122", "13", "54", "53", "28", "119", "120", "87", "83"),
        MACHINES,
        ROOMS,
        2,
    ),
    OrgKind(
        "стоматологическая поликлиника",
        ("ALL",),
        ("стоматологическое отделение", "лечебно-профилактическое отделение"),
        ("100", "103", "101"),
        DENTAL_MACHINES,
        ROOMS[:1],
        1,
    ),
)

# (city, feminine adjective, postcode, telephone area code)
CITIES = (
    ("Сургут", "Сургутская", "628400", "3462"),
    ("Нижневартовск", "Нижневартовская", "628600", "3466"),
    ("Ханты-Мансийск", "Ханты-Мансийская", "628000", "3467"),
    ("Нефтеюганск", "Нефтеюганская", "628300", "3463"),
    ("Когалым", "Когалымская", "628480", "34667"),
    ("Нягань", "Няганская", "628180", "34672"),
    ("Мегион", "Мегионская", "628680", "34643"),
    ("Урай", "Урайская", "628280", "34676"),
)


@dataclass(frozen=True)
class Region:
    """Showcase records per entity, in upload order, plus one login per medical organisation OID."""

    credentials: list[tuple[str, str]]
    mo: list[Record] = field(default_factory=list)
    resource: list[Record] = field(default_factory=list)
    profilecode_resource: list[Record] = field(default_factory=list)
    service: list[Record] = field(default_factory=list)
    slot: list[Record] = field(default_factory=list)
    unaccessable_period: list[Record] = field(default_factory=list)
    referral: list[Record] = field(default_factory=list)

    def batches(self) -> list[tuple[str, list[Record]]]:
        """(entity, records) pairs in the order the showcase must receive them."""
        return [(entity, getattr(self, entity)) for entity in UPLOAD_ORDER]


@dataclass
class _Placed:
    """A generated resource with what its slots and referrals need to know."""

    record: Record
    mo: Record
    age: str
    duration: int
    profile_code: str
    post: Post | None = None
    services: tuple[tuple[str, str], ...] = ()
    off_days: frozenset[dt.date] = frozenset()


def _pick(rng: Random, table: Sequence[tuple[str, float]]) -> str:
    """A value from a (value, weight) table."""
    point = rng.random() * sum(weight for _, weight in table)
    for value, weight in table:
        point -= weight
        if point < 0:
            return value
    return table[-1][0]


def _serves(mo_age: str, post_age: str) -> bool:
    """Whether a subdivision serving mo_age patients may employ a post seeing post_age ones."""
    return "ALL" in (mo_age, post_age) or mo_age == post_age


def _ts(moment: dt.datetime) -> str:
    """The showcase timestamp format YYYY-MM-DDTHH:MM:SS."""
    return moment.isoformat(timespec="seconds")


def _phone(rng: Random, area_code: str) -> str:
    """A landline number in the city's area, e.g. +7 (3462) 52-14-07."""
    local = f"{rng.randrange(10 ** (10 - len(area_code))):0{10 - len(area_code)}d}"
    return f"+7 ({area_code}) {local[:-4]}-{local[-4:-2]}-{local[-2:]}"


class _RegionBuilder:
    """Draws a region from one Random in a fixed order, so a seed fixes every byte."""

    def __init__(self, seed: int, start: dt.date, days: int, slots_per_day: int) -> None:
        self.rng = Random(seed)
        self.start = start
        self.days = [start + dt.timedelta(days=n) for n in range(days)]
        self.working_days = [day for day in self.days if day.weekday() < 5]
        self.slots_per_day = slots_per_day
        self.created_from = dt.datetime.combine(start - dt.timedelta(days=30), dt.time(8))
        self.region = Region(credentials=[])
        self.placed: list[_Placed] = []
        self.oids: set[str] = set()
        self.org_numbers: dict[tuple[str, str], int] = {}

    def created(self) -> str:
        """A working-hours creation time within the month before the schedule starts."""
        offset = dt.timedelta(days=self.rng.randrange(20), minutes=self.rng.randrange(WORKDAY_MINUTES))
        return _ts(self.created_from + offset)

    def unique_oid(self, draw: Callable[[], str]) -> str:
        """An OID from draw() not yet used in this region."""
        while (oid := draw()) in self.oids:
            pass
        self.oids.add(oid)
        return oid

    def build(self, mo_count: int) -> Region:
        """The whole region: organisations, their resources, slots, absences and referrals."""
        while len(self.region.mo) < mo_count:
            self.add_organisation(min(self.rng.randint(1, 3), mo_count - len(self.region.mo)))
        for placed in self.placed:
            self.add_slots(placed)
        self.add_referrals(max(1, mo_count // 5) if self.placed else 0)
        return self.region

    def add_organisation(self, subdivisions: int) -> None:
        """One medical organisation OID with its login and its subdivisions."""
        rng = self.rng
        kind = rng.choices(ORG_KINDS, weights=[k.weight for k in ORG_KINDS])[0]
        city = rng.choice(CITIES)
        number = self.org_numbers[city[0], kind.title] = self.org_numbers.get((city[0], kind.title), 0) + 1
        org_name = f"БУ «{city[1]} {kind.title} №{number}»"
        mo_oid = self.unique_oid(lambda: make_mo_oid(rng, REGION_CODE))
        password = "".join(rng.choices(PASSWORD_ALPHABET, k=16))
        self.region.credentials.append((mo_oid, password))
        names = rng.sample(kind.subdivisions, k=min(subdivisions, len(kind.subdivisions)))
        names += [kind.subdivisions[0]] * (subdivisions - len(names))
        for index, sub in enumerate(names, start=1):
            mo = self.add_subdivision(kind, city, mo_oid, f"{org_name}, {sub} №{index}")
            self.add_resources(kind, mo)

    def add_subdivision(self, kind: OrgKind, city: tuple[str, ...], mo_oid: str, name: str) -> Record:
        """One showcase MO record (a structural subdivision)."""
        rng = self.rng
        record: Record = {
            "id": make_guid(rng),
            "parent_id": mo_oid,
            "branch_oid": self.unique_oid(lambda: make_depart_oid(rng, mo_oid)),
            "name": name,
            "address": f"{city[2]}, {REGION_TITLE}, г. {city[0]}, {make_street_address(rng)}",
        }
        if rng.random() < 0.7:
            record["address_fias_guid"] = make_guid(rng)
        record["region_okato"] = REGION_OKATO
        record["phone"] = _phone(rng, city[3])
        record["enabled"] = _pick(rng, ENABLED)
        record["tag_age"] = rng.choice(kind.tag_ages)
        record["create_ts"] = self.created()
        self.region.mo.append(record)
        return record

    def add_resources(self, kind: OrgKind, mo: Record) -> None:
        """Doctors, machines and rooms of one subdivision."""
        rng = self.rng
        posts = [POSTS[p] for p in kind.post_ids if _serves(mo["tag_age"], POSTS[p].age)]
        for _ in range(rng.randint(4, 9)):
            self.add_specialist(mo, rng.choice(posts))
        for equipment in rng.sample(kind.machines, k=min(rng.randint(0, 2), len(kind.machines))):
            self.add_equipment(mo, equipment)
        for equipment in rng.sample(kind.rooms, k=min(rng.randint(0, 2), len(kind.rooms))):
            self.add_equipment(mo, equipment)

    def add_specialist(self, mo: Record, post: Post) -> None:
        """A SPECIALIST resource, its profile and sometimes a priced first appointment."""
        rng = self.rng
        doctor = make_person(rng, age_range=(26, 67), today=self.start)
        record: Record = {"id": make_guid(rng), "type": "SPECIALIST", "mo_id": mo["id"]}
        record["enabled"] = _pick(rng, ENABLED)
        record["post_id"] = post.post_id
        record["speciality_id"] = post.speciality_id
        record["snils"] = doctor.snils
        record["last_name"] = doctor.last_name
        record["first_name"] = doctor.first_name
        record["middle_name"] = doctor.middle_name
        if post.post_id in ("110", "59", "120"):
            record["description"] = f"Участок №{rng.randint(1, 40)}"
        record["create_ts"] = self.created()
        duration = rng.choice(SLOT_DURATIONS["SPECIALIST"])
        age = post.age if mo["tag_age"] == "ALL" else mo["tag_age"]
        services = ((post.service_code, post.name),) if rng.random() < 0.3 else ()
        self.place(_Placed(record, mo, age, duration, post.profile_code, post, services))

    def add_equipment(self, mo: Record, equipment: Equipment) -> None:
        """A MACHINE or ROOM resource, its profile and its one or two services."""
        rng = self.rng
        record: Record = {"id": make_guid(rng), "type": equipment.type, "mo_id": mo["id"]}
        record["enabled"] = _pick(rng, ENABLED)
        if equipment.type == "MACHINE":
            record["machine_name"] = equipment.name
        else:
            record["room_number"] = str(rng.randint(1, 4) * 100 + rng.randint(1, 40))
            record["room_name"] = equipment.name
        record["create_ts"] = self.created()
        duration = rng.choice(SLOT_DURATIONS[equipment.type])
        k = rng.randint(1, len(equipment.services))
        services = tuple(rng.sample(equipment.services, k=k))
        self.place(_Placed(record, mo, mo["tag_age"], duration, equipment.profile_code, None, services))

    def place(self, placed: _Placed) -> None:
        """Record a resource with its profile, services and maybe a period of absence."""
        rng = self.rng
        resource_id = placed.record["id"]
        self.region.resource.append(placed.record)
        self.region.profilecode_resource.append(
            {
                "id": make_guid(rng),
                "resource_id": resource_id,
                "profile_code": placed.profile_code,
                "create_ts": self.created(),
            }
        )
        for code, _ in placed.services:
            service: Record = {"id": make_guid(rng), "resource_id": resource_id, "code": code}
            if rng.random() < 0.4:
                service["price"] = rng.randint(9, 70) * 50
            service["create_ts"] = self.created()
            self.region.service.append(service)
        if self.days and rng.random() < UNAVAILABLE_SHARE:
            placed.off_days = self.add_absence(placed)
        self.placed.append(placed)

    def add_absence(self, placed: _Placed) -> frozenset[dt.date]:
        """An unaccessable_period for the resource; returns the schedule days it covers."""
        rng = self.rng
        if placed.post is None:
            reason, length = "REPAIR", rng.randint(1, 5)
        else:
            reason = _pick(rng, (("VACATION", 0.5), ("SICK_LEAVE", 0.4), ("FIRED", 0.1)))
            length = {"VACATION": 14, "SICK_LEAVE": rng.randint(3, 10), "FIRED": 3650}[reason]
        first = rng.choice(self.days)
        last = first + dt.timedelta(days=length - 1)
        self.region.unaccessable_period.append(
            {
                "period_id": make_guid(rng),
                "resource_id": placed.record["id"],
                "reason": reason,
                "beg_date": _ts(dt.datetime.combine(first, dt.time(0))),
                "end_date": _ts(dt.datetime.combine(last, dt.time(23, 59, 59))),
                "create_ts": self.created(),
            }
        )
        return frozenset(day for day in self.days if first <= day <= last)

    def add_slots(self, placed: _Placed) -> None:
        """Slots on working days 08:00-18:00, never two at one time for one resource."""
        rng = self.rng
        duration = placed.duration
        count = min(self.slots_per_day, WORKDAY_MINUTES // duration)
        free_steps = (WORKDAY_MINUTES - count * duration) // duration
        tag_types = TAG_TYPES if placed.post is not None else RESEARCH_TAG_TYPES
        ages = (("CHILD", 0.8), ("BABY", 0.2)) if placed.post and placed.post.sees_babies else ()
        base = {"mo_id": placed.mo["id"], "resource_id": placed.record["id"]}
        for day in self.working_days:
            if day in placed.off_days:
                continue
            created = _ts(dt.datetime.combine(day - dt.timedelta(days=14), dt.time(3)))
            first_minute = DAY_START_MINUTE + duration * rng.randint(0, free_steps)
            for n in range(count):
                hours, minutes = divmod(first_minute + n * duration, 60)
                self.region.slot.append(
                    {
                        "id": make_guid(rng),
                        **base,
                        "tag_type": _pick(rng, tag_types),
                        "tag_age": _pick(rng, ages) if ages else placed.age,
                        "visit_time": f"{day.isoformat()}T{hours:02d}:{minutes:02d}:00",
                        "duration": duration,
                        "status": "RECORDED" if rng.random() < RECORDED_SHARE else "AVAILABLE",
                        "create_ts": created,
                    }
                )

    def add_referrals(self, count: int) -> None:
        """AVAILABLE referrals to consultants and to research machines or rooms of the region."""
        rng = self.rng
        # Absent resources would leave a referral with nowhere to book.
        present = [p for p in self.placed if not p.off_days]
        consultants = [p for p in present if p.post and p.post.post_id not in PRIMARY_CARE_POSTS]
        research = [p for p in present if p.post is None]
        issuers = [p for p in self.placed if p.post is not None]
        for seq in range(1, count + 1):
            targets = consultants if (seq % 2 or not research) and consultants else research
            if not targets:
                return
            self.add_referral(seq, rng.choice(targets), rng.choice(issuers))

    def add_referral(self, seq: int, target: _Placed, issuer: _Placed) -> None:
        """One referral from issuer's subdivision to target's profile."""
        rng = self.rng
        issued = self.start - dt.timedelta(days=rng.randint(1, 20))
        record: Record = {
            "id": make_guid(rng),
            "patient_id": make_guid(rng),
            "number": f"{REGION_CODE}-{issued.year}-{seq:06d}",
            "type": "CONSULTATION" if target.post else "RESEARCH",
            "start_date": _ts(dt.datetime.combine(issued, dt.time(0))),
            "end_date": _ts(dt.datetime.combine(issued + dt.timedelta(days=30), dt.time(23, 59, 59))),
            "to_mo_id": target.mo["id"],
            "to_profile_code": target.profile_code,
        }
        if target.post is not None:
            record["speciality_id"] = target.post.speciality_id
            record["to_post_name"] = target.post.name
        else:
            record["to_service_id"], record["to_service_name"] = rng.choice(target.services)
        record["from_mo_id"] = issuer.mo["id"]
        record["from_resource_id"] = issuer.record["id"]
        record["status"] = "AVAILABLE"
        record["create_ts"] = _ts(dt.datetime.combine(issued, dt.time(10)))
        record["referral_type_code"] = REFERRAL_TYPE_CODES[record["type"]]
        record["to_mo_oid"] = target.mo["parent_id"]
        record["from_mo_oid"] = issuer.mo["parent_id"]
        self.region.referral.append(record)


def generate_region(seed: int, mo_count: int, days: int, start: dt.date, slots_per_resource_per_day: int = 8) -> Region:
    """A showcase region of mo_count subdivisions with slots for days calendar days from start."""
    if mo_count < 0 or days < 0 or slots_per_resource_per_day < 0:
        raise ValueError("mo_count, days and slots_per_resource_per_day must not be negative")
    if mo_count > MAX_MO_COUNT:
        raise ValueError(f"at most {MAX_MO_COUNT} subdivisions fit the region's OID space")
    return _RegionBuilder(seed, start, days, slots_per_resource_per_day).build(mo_count)
