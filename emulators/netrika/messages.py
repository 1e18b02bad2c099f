"""The six message types of section 5: field order (the examples'), realistic generated values, VIMIS spellings.

`build(message_type, status, fields, rng)` returns the message body as a dict in the example's key order:
what the caller gives in `fields` wins (None drops an optional field), everything else is generated from
`rng` (reproducible from a seed). The CDA of CDAStatus is a real CDA XML document, base64-encoded as the
seed's; MseResultData's Data a real text file of «Сведения о результатах проведенной МСЭ».
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from random import Random
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from emulators.core.datagen import Person, make_guid, make_mo_oid, make_person
from emulators.netrika import catalogue as texts

MESSAGE_TYPES = ("CDAStatus", "SEMDStatus", "REMDStatus", "MseResult", "MseResultData", "VimisResult")
STATUSES = ("Success", "Failed")
# each type's fields in the order of the seed's example (section 5)
ORDER: dict[str, tuple[str, ...]] = {
    "CDAStatus": ("IdMedDocumentMis", "IdMedDocument", "MedDocumentType", "Lpu", "MessageId", "Status", "Message",
                  "CDA"),
    "SEMDStatus": ("IdMedDocumentMis", "IdMedDocument", "MedDocumentType", "Lpu", "MessageId", "Status", "Message"),
    "REMDStatus": ("IdSourceMis", "MedDocumentType", "Lpu", "MessageId", "Status", "Message", "IdFedRequest",
                   "RemdRegNumber"),
    "MseResult": ("Lpu", "MessageId", "IdMSEMis", "IdResultMSE", "Message", "Status"),
    "MseResultData": ("Lpu", "MessageId", "IdMSEMis", "IdResultMSE", "Data", "Message", "Status"),
    "VimisResult": ("MessageId", "Message", "Status", "Lpu", "DocType", "IdSource", "IdRecipientSystem",
                    "StatusCode", "IdCaseMis", "IdDocumentMis"),
}  # fmt: skip
OPTIONAL = {"CDA", "RemdRegNumber", "Data"}  # multiplicity 0..1; left out of a Failed message unless given
# NET-7: the seed's table spells two VimisResult fields differently from its example (a Cyrillic С in StatusСode)
TABLE_SPELLING = {"IdSource": "IdSourse", "StatusCode": "StatusСode"}
EXAMPLE_SPELLING = {table: example for example, table in TABLE_SPELLING.items()}
VIMIS_STATUS_CODE = {"Success": 4, "Failed": 3}  # 4: the seed's example; 3 for Failed is reconstructed


class MessageError(ValueError):
    """Fields the caller gave that no message of this type has (the text lists the known ones)."""


def build(
    message_type: str,
    status: str,
    fields: dict[str, Any],
    rng: Random,
    spelling: str = "example",
    today: dt.date | None = None,
) -> dict[str, Any]:
    """One message body of `message_type` (a dict in the example's key order)."""
    if message_type not in ORDER:
        raise MessageError(f"message_type must be one of {', '.join(MESSAGE_TYPES)}; got {message_type!r}")
    if status not in STATUSES:
        raise MessageError(f"status must be Success or Failed; got {status!r}")
    given = {EXAMPLE_SPELLING.get(k, k) if message_type == "VimisResult" else k: v for k, v in fields.items()}
    unknown = sorted(set(given) - set(ORDER[message_type]))
    if unknown:
        raise MessageError(f"{message_type} has no field(s) {', '.join(unknown)}; "
                           f"its fields: {', '.join(ORDER[message_type])}")  # fmt: skip
    status = given.get("Status", status)
    message = GENERATORS[message_type](rng, str(status), today or dt.date.today(), given)
    for key, value in given.items():
        message[key] = value
    body = {key: message[key] for key in ORDER[message_type] if key in message and message[key] is not None}
    if message_type == "VimisResult" and spelling == "table":
        body = {TABLE_SPELLING.get(k, k): v for k, v in body.items()}
    return body


def _common(rng: Random, status: str, message_type: str) -> dict[str, Any]:
    text = texts.SUCCESS_SEED if status == "Success" else texts.FAILED_RECONSTRUCTED
    return {"MessageId": make_guid(rng), "Status": status, "Message": text[message_type]}


def _document(rng: Random, given: dict[str, Any]) -> dict[str, Any]:
    return {
        "IdMedDocumentMis": f"idDocumentMis_{rng.randint(1_000_000, 9_999_999)}",
        "IdMedDocument": rng.randint(1000, 999_999),
        "MedDocumentType": 33,
        "Lpu": make_guid(rng),
    }


def cda_status(rng: Random, status: str, today: dt.date, given: dict[str, Any]) -> dict[str, Any]:
    message = {**_document(rng, given), **_common(rng, status, "CDAStatus")}
    if status == "Success":
        merged = {**message, **given}
        kind = merged["MedDocumentType"] if isinstance(merged["MedDocumentType"], int) else 33
        message["CDA"] = encode(cda_document(rng, kind, str(merged["Lpu"]), today))
    return message


def semd_status(rng: Random, status: str, today: dt.date, given: dict[str, Any]) -> dict[str, Any]:
    return {**_document(rng, given), **_common(rng, status, "SEMDStatus")}


def remd_status(rng: Random, status: str, today: dt.date, given: dict[str, Any]) -> dict[str, Any]:
    document = _document(rng, given)
    message = {"IdSourceMis": document["IdMedDocumentMis"], "MedDocumentType": 33, "Lpu": document["Lpu"],
               **_common(rng, status, "REMDStatus"), "IdFedRequest": make_guid(rng)}  # fmt: skip
    if status == "Success":
        message["RemdRegNumber"] = str(rng.randint(100_000, 999_999))
    return message


def _mse(rng: Random, status: str, message_type: str) -> dict[str, Any]:
    result_id = f"{rng.randint(1, 99):02d}.{rng.randint(20, 26)}.{rng.randint(1000, 9999)}.{rng.randint(1, 10**6):09d}"
    return {"Lpu": make_guid(rng), **_common(rng, status, message_type),
            "IdMSEMis": f"ReferralMSE:{rng.randint(100, 99_999)}", "IdResultMSE": result_id}  # fmt: skip


def mse_result(rng: Random, status: str, today: dt.date, given: dict[str, Any]) -> dict[str, Any]:
    return _mse(rng, status, "MseResult")


def mse_result_data(rng: Random, status: str, today: dt.date, given: dict[str, Any]) -> dict[str, Any]:
    message = _mse(rng, status, "MseResultData")
    if status == "Success":
        message["Data"] = encode(mse_text(make_person(rng, today=today, age_range=(18, 80)), today))
    return message


def vimis_result(rng: Random, status: str, today: dt.date, given: dict[str, Any]) -> dict[str, Any]:
    return {
        **_common(rng, status, "VimisResult"),
        "Lpu": make_guid(rng),
        "DocType": rng.randint(1, 30),
        "IdSource": str(rng.randint(10_000, 99_999)),
        "IdRecipientSystem": rng.choice(texts.VIMIS_RECIPIENTS),
        "StatusCode": VIMIS_STATUS_CODE[status],
        "IdCaseMis": str(rng.randint(1_000_000, 9_999_999)),
        "IdDocumentMis": str(rng.randint(1_000_000, 9_999_999)),
    }


GENERATORS: dict[str, Callable[[Random, str, dt.date, dict[str, Any]], dict[str, Any]]] = {
    "CDAStatus": cda_status,
    "SEMDStatus": semd_status,
    "REMDStatus": remd_status,
    "MseResult": mse_result,
    "MseResultData": mse_result_data,
    "VimisResult": vimis_result,
}


def encode(text: str) -> str:
    """base64 of the UTF-8 text with CRLF line ends, as the seed's CDA is."""
    return base64.b64encode(text.replace("\n", "\r\n").encode("utf-8")).decode("ascii")


def cda_document(rng: Random, document_type: int, lpu: str, today: dt.date) -> str:
    """A CDA document laid out like the seed's (its header lines, then patient, author and custodian)."""
    title = texts.CDA_TITLES.get(document_type, "Электронный медицинский документ")
    mo = make_mo_oid(rng, region=rng.choice((78, 86, 50, 66)))
    patient = make_person(rng, today=today, age_range=(0, 1) if document_type == 33 else (0, 90))
    doctor = make_person(rng, today=today, age_range=(28, 65))
    moment = dt.datetime.combine(today, dt.time(rng.randint(8, 19), rng.randint(0, 59))).strftime("%Y%m%d%H%M+0300")
    base = "http://tech-iemc-test.rosminzdrav.ru/tech/download"
    return f"""<?xml version="1.0" encoding="utf-8"?>
<?xml-stylesheet type="text/xsl" href="{base}/XSLT/{document_type}/MBC.xsl"?>
<ClinicalDocument xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" \
classCode="DOCCLIN" moodCode="EVN" xmlns="urn:hl7-org:v3" \
xsi:schemaLocation="urn:hl7-org:v3 {base}/infrastructure/{document_type}/CDA.xsd">
  <realmCode code="RU" />
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040" />
  <templateId root="1.2.643.5.1.13.2.7.5.1.{document_type}.3" />
  <id root="{mo}" extension="{make_guid(rng)}" />
  <code code="{document_type}" codeSystem="1.2.643.5.1.13.13.11.1115" \
codeSystemName="{texts.CDA_CODE_SYSTEM_NAME}" codeSystemVersion="2.4" displayName={quoteattr(title)} />
  <title>{escape(title)}</title>
  <effectiveTime value="{moment}" />
  <confidentialityCode code="N" codeSystem="1.2.643.5.1.13.13.99.2.285" displayName="Обычный" />
  <languageCode code="ru-RU" />
  <setId root="{mo}.51" extension="{make_guid(rng)}" />
  <versionNumber value="1" />
{_record_target(patient, mo)}
{_author(doctor, mo, moment)}
  <custodian>
    <assignedCustodian>
      <representedCustodianOrganization classCode="ORG" determinerCode="INSTANCE">
        <id root="{mo}" extension="{escape(lpu)}" />
      </representedCustodianOrganization>
    </assignedCustodian>
  </custodian>
</ClinicalDocument>
"""


def _record_target(person: Person, mo: str) -> str:
    return f"""  <recordTarget>
    <patientRole>
      <id root="{mo}.100" extension="{person.enp}" />
      <id root="1.2.643.100.3" extension="{_snils(person.snils)}" />
      <patient>
        <name>
          <family>{escape(person.last_name)}</family>
          <given>{escape(person.first_name)}</given>
          <given>{escape(person.middle_name)}</given>
        </name>
        <administrativeGenderCode code="{person.gender}" codeSystem="1.2.643.5.1.13.13.11.1040" />
        <birthTime value="{person.birthdate:%Y%m%d}" />
      </patient>
    </patientRole>
  </recordTarget>"""


def _author(person: Person, mo: str, moment: str) -> str:
    return f"""  <author>
    <time value="{moment}" />
    <assignedAuthor>
      <id root="1.2.643.100.3" extension="{_snils(person.snils)}" />
      <assignedPerson>
        <name>
          <family>{escape(person.last_name)}</family>
          <given>{escape(person.first_name)}</given>
          <given>{escape(person.middle_name)}</given>
        </name>
      </assignedPerson>
    </assignedAuthor>
  </author>"""


def _snils(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def mse_text(person: Person, today: dt.date) -> str:
    """The text file of «Сведения о результатах проведенной МСЭ», laid out as the seed's Data begins."""
    return (
        f"{texts.MSE_DATA_TITLE}\n"
        + "_" * 72
        + "\n(наименование федерального государственного учреждения медико-социальной экспертизы)\n"
        + f"{texts.MSE_BUREAU}\n"
        + f"Фамилия, имя, отчество: {person.last_name} {person.first_name} {person.middle_name}\n"
        + f"Дата рождения: {person.birthdate:%d.%m.%Y}\n"
        + f"СНИЛС: {_snils(person.snils)}\n"
        + f"Дата проведения медико-социальной экспертизы: {today:%d.%m.%Y}\n"
    )
