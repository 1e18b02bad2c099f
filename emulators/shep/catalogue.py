"""Every text and code the ШЭП emulator sends, in one place; Russian and Kazakh texts are data.

`SEED` marks what the seed document shows (quoted from it); `RECONSTRUCTED` what medstand made up in
the same style where the seed is silent. contracts/shep/README.md lists the reconstructed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["seed", "reconstructed"]
SEED: Source = "seed"
RECONSTRUCTED: Source = "reconstructed"


@dataclass(frozen=True)
class Text:
    code: str
    message: str
    source: Source

    def format(self, **values: object) -> Text:
        return Text(self.code, self.message.format(**values), self.source)


# responseInfo/status and data/status of a processed search (Приложение 3 shows SUCCESS and its message)
SUCCESS = Text("SUCCESS", "The request has been processed", SEED)
# SHEP-6: «Уведомление об отсутствии Медотвода» (Таблица 2 names the field, not its text)
NOT_FOUND = Text("NOT_FOUND", "Медицинский отвод по указанным параметрам поиска не найден", RECONSTRUCTED)

# SHEP-3: search parameters (data/status of a normal response)
NO_CRITERIA = Text(
    "VALIDATION_ERROR",
    "Не заполнены параметры поиска: укажите номер медицинского отвода, ИИН или номер документа и гражданство",
    RECONSTRUCTED,
)
PASSPORT_WITHOUT_CITIZENSHIP = Text(
    "VALIDATION_ERROR", "Поле «Гражданство» обязательно, если направляется поле «Номер документа»", RECONSTRUCTED
)
IIN_FORMAT = Text("VALIDATION_ERROR", "ИИН «{iin}» должен состоять из 12 цифр", RECONSTRUCTED)
IIN_CHECKSUM = Text("VALIDATION_ERROR", "ИИН «{iin}» некорректен: не совпадает контрольный разряд", RECONSTRUCTED)
WRONG_DATA_TYPE = Text(
    "VALIDATION_ERROR",
    'requestData/data должен иметь тип xsi:type="MedicalExemptionSearchRequest" '
    "(http://ehealth.kz/integration/sync), получено: {found}",
    RECONSTRUCTED,
)

# SHEP-2: requestInfo checks (SOAP fault SendMessageFault1_SendMessageFault, or responseInfo/status)
UNKNOWN_SENDER = Text("SENDER_NOT_FOUND", "Отправитель «{sender}» не зарегистрирован на ШЭП", RECONSTRUCTED)
WRONG_PASSWORD = Text("AUTHENTICATION_ERROR", "Неверный пароль отправителя «{sender}»", RECONSTRUCTED)
UNKNOWN_SERVICE = Text("SERVICE_NOT_FOUND", "Сервис «{service}» не найден в реестре взаимодействий ШЭП", RECONSTRUCTED)
MISSING_MESSAGE_ID = Text("VALIDATION_ERROR", "Не заполнен идентификатор сообщения (messageId)", RECONSTRUCTED)

# envelope-level errors (SOAP faults without business detail)
SCHEMA_INVALID = Text("VALIDATION_ERROR", "Сообщение не соответствует схеме SyncChannel v10: {errors}", RECONSTRUCTED)
NOT_XML = Text("XML_PARSE_ERROR", "Тело запроса не является корректным XML: {error}", RECONSTRUCTED)
DTD_REFUSED = Text("XML_PARSE_ERROR", "DTD и объявления сущностей в сообщении запрещены", RECONSTRUCTED)
NOT_ENVELOPE = Text(
    "VERSION_MISMATCH", "Ожидается SOAP Envelope (SOAP 1.1 или SOAP 1.2), получено: {found}", RECONSTRUCTED
)
NO_BODY = Text("VALIDATION_ERROR", "В SOAP Envelope отсутствует Body", RECONSTRUCTED)
UNKNOWN_OPERATION = Text(
    "OPERATION_NOT_FOUND", "Операция {found} не поддерживается: ожидается SendMessage (SyncChannel v10)", RECONSTRUCTED
)
MUST_UNDERSTAND = Text("MUST_UNDERSTAND", "Заголовок {header} не поддерживается (mustUnderstand)", RECONSTRUCTED)
TOO_LARGE = Text("MESSAGE_TOO_LARGE", "Размер сообщения превышает допустимый: {detail}", RECONSTRUCTED)
TRANSPORT = Text("TRANSPORT_ERROR", "{detail}", RECONSTRUCTED)
INTERNAL = Text("INTERNAL_ERROR", "Внутренняя ошибка сервиса: {detail}", RECONSTRUCTED)
UNAVAILABLE = Text("SERVICE_UNAVAILABLE", "Сервис временно недоступен", RECONSTRUCTED)

# SHEP-4: medical exemption statuses (the seed shows UP_TO_DATE; the other two names are reconstructed)
UP_TO_DATE = "UP_TO_DATE"
NOT_UP_TO_DATE = "NOT_UP_TO_DATE"
REVOKED = "REVOKED"
STATUSES = (UP_TO_DATE, NOT_UP_TO_DATE, REVOKED)
STATUS_NAMES = {  # Таблица 2: «1.актуален 2.неактуален 3.отозван»; Kazakh reconstructed
    UP_TO_DATE: ("актуален", "өзекті"),
    NOT_UP_TO_DATE: ("неактуален", "өзекті емес"),
    REVOKED: ("отозван", "кері қайтарылған"),
}


@dataclass(frozen=True)
class Procedure:
    code: str
    name_ru: str
    name_kk: str
    source: Source


PROCEDURES = {
    # the seed's example prints the Russian name in nameKk too; kept as printed
    "100": Procedure(
        "100", "Иммунопрофилактика от коронавирусной инфекции", "Иммунопрофилактика от коронавирусной инфекции", SEED
    ),
    "101": Procedure(
        "101",
        "Профилактические прививки против кори, краснухи и эпидемического паротита",
        "Қызылшаға, қызамыққа және эпидемиялық паротитке қарсы профилактикалық екпелер",
        RECONSTRUCTED,
    ),
    "102": Procedure("102", "Вакцинация против гриппа", "Тұмауға қарсы вакцинация", RECONSTRUCTED),
    "103": Procedure(
        "103", "Туберкулинодиагностика (проба Манту)", "Туберкулинодиагностика (Манту сынамасы)", RECONSTRUCTED
    ),
    "104": Procedure(
        "104",
        "Профилактические прививки против дифтерии, столбняка и коклюша",
        "Дифтерияға, сіреспеге және көкжөтелге қарсы профилактикалық екпелер",
        RECONSTRUCTED,
    ),
    "105": Procedure(
        "105", "Вакцинация против вирусного гепатита B", "В вирустық гепатитіне қарсы вакцинация", RECONSTRUCTED
    ),
}

REVOCATION_REASONS = (  # reconstructed
    "Отозван медицинской организацией: ошибка при оформлении",
    "Отозван по результатам повторного осмотра: противопоказание не подтверждено",
    "Отозван по заявлению пациента",
)

# citizenship dictionary (reconstructed: ISO 3166-1 numeric codes, the gateway's usual dictionary key)
CITIZENSHIPS = {
    "398": ("Казахстан", "Қазақстан"),
    "643": ("Россия", "Ресей"),
    "860": ("Узбекистан", "Өзбекстан"),
    "417": ("Кыргызстан", "Қырғызстан"),
    "762": ("Таджикистан", "Тәжікстан"),
    "156": ("Китай", "Қытай"),
}

ORGANISATIONS = (  # reconstructed, for generated exemptions and certificates
    "ГКП на ПХВ «Городская поликлиника №5» УОЗ г. Алматы",
    "ГКП на ПХВ «Городская поликлиника №1» акимата г. Астаны",
    "ГКП на ПХВ «Поликлиника №3» УОЗ Карагандинской области",
    "КГП на ПХВ «Областная детская больница» УЗ Павлодарской области",
)

# certificate labels: Russian and Kazakh (reconstructed; Приложения 1 and 2 of the seed are not printed)
CERTIFICATE = {
    "title": ("Справка о медицинском отводе", "Медициналық қарсы көрсетілім туралы анықтама"),
    "number": ("Номер медотвода", "Медициналық қарсы көрсетілім нөмірі"),
    "patient": ("Пациент", "Пациент"),
    "iin": ("ИИН", "ЖСН"),
    "document": ("Документ, гражданство", "Құжат, азаматтығы"),
    "birth_date": ("Дата рождения", "Туған күні"),
    "procedure": ("Медотвод от", "Қарсы көрсетілім"),
    "status": ("Статус", "Мәртебесі"),
    "issued": ("Дата выдачи", "Берілген күні"),
    "valid_until": ("Срок действия", "Жарамдылық мерзімі"),
    "revocation": ("Причина отзыва", "Кері қайтару себебі"),
    "organisation": ("Медицинская организация", "Медициналық ұйым"),
    "doctor": ("Врач", "Дәрігер"),
    "qr": ("QR-код содержит номер медотвода", "QR-кодта қарсы көрсетілім нөмірі бар"),
    "signature": ("Подпись врача ____________", "Дәрігердің қолы ____________"),
    "stamp": ("М.П.", "М.О."),
    "indefinite": ("бессрочно", "мерзімсіз"),
}
