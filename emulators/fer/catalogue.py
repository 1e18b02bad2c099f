"""Every text and code the FER gateway sends, in one place. Russian texts from the seed stay verbatim.

`SEED` marks what the seed document shows (quoted from it); `RECONSTRUCTED` what medstand made up in the
same style where the seed is silent. contracts/fer/README.md lists the reconstructed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["seed", "reconstructed"]
SEED: Source = "seed"
RECONSTRUCTED: Source = "reconstructed"


@dataclass(frozen=True)
class Text:
    code: str | None
    template: str
    source: Source
    prefixed: bool = True  # per-record texts get «В слоте с идентификатором '…': » unless they name the record

    def format(self, **values: object) -> str:
        return self.template.format(**values)


# Whole-request answers: Приложение 2 and the «Коды ошибок» table of the booking service.
STATUS: dict[int, Text] = {
    200: Text(None, "Запрос успешно обработан", SEED),
    400: Text("R-300", "Формат переданных сведений некорректен и не соответствует требованиям", SEED),
    401: Text("401", "Требуется авторизация", SEED),
    403: Text("403", "Нет полномочий на выполнение запроса", SEED),
    404: Text("404", "Результат по заданному идентификатору SQL-запроса не найден", SEED),
    405: Text(
        "405",
        "Обновление информации о структурных подразделениях МО [{mo}] заблокировано. Для разъяснения обратитесь "
        "в группу сопровождения: «Витрина данных ХМАО».",
        SEED,
    ),
    406: Text("406", "Неподдерживаемая версия протокола", SEED),
    413: Text("413", "Размер запроса превышает допустимый", RECONSTRUCTED),
    422: Text("R-310", "Дублирование данных", SEED),
    500: Text("500", "Системная ошибка", SEED),
    501: Text("501", "Операция не реализована", RECONSTRUCTED),
    503: Text("503", "Выполняются технические работы, отправка данных приостановлена до окончания работ.", SEED),
}

# Per-record prefix: the seed's slot example «В слоте с идентификатором '…': …», declined per entity.
RECORD_PREFIX: dict[str, str] = {
    "mo": "В структурном подразделении с идентификатором '{id}': ",
    "resource": "В ресурсе с идентификатором '{id}': ",
    "service": "В услуге с идентификатором '{id}': ",
    "slot": "В слоте с идентификатором '{id}': ",
    "book": "В бирке с идентификатором '{id}': ",
    "referral": "В направлении с идентификатором '{id}': ",
    "unaccessable_period": "В периоде недоступности с идентификатором '{id}': ",
    "profilecode_resource": "В профиле ресурса с идентификатором '{id}': ",
}
RECORD_PREFIX_NO_ID = "В записи №{index}: "
GENITIVE: dict[str, str] = {
    "mo": "структурного подразделения",
    "resource": "ресурса",
    "service": "услуги",
    "slot": "слота",
    "book": "бирки",
    "referral": "направления",
    "unaccessable_period": "периода недоступности",
    "profilecode_resource": "профиля ресурса",
}

# Format-logic control (FER-FLK-*): one per kind of schema failure.
REQUIRED = Text("R-100", "Не заполнено обязательное поле [{field}]", RECONSTRUCTED)
REQUIRED_FOR_TYPE = Text(
    "R-160", "Не заполнено обязательное поле [{field}] (обязательно при type = {type})", RECONSTRUCTED
)
FORBIDDEN_FOR_TYPE = Text("R-160", "Поле [{field}] не должно заполняться при type = {type}", RECONSTRUCTED)
WRONG_TYPE = Text("R-110", "Поле [{field}] имеет неверный тип данных, ожидается {expected}", RECONSTRUCTED)
TOO_LONG = Text("R-120", "Значение поля [{field}] превышает допустимую длину {limit} символов", RECONSTRUCTED)
EMPTY = Text("R-120", "Поле [{field}] не может быть пустым", RECONSTRUCTED)
BAD_ENUM = Text(
    "R-140",
    "Поле [{field}] содержит недопустимое значение '{value}'. Допустимые значения: {allowed}",
    RECONSTRUCTED,
)
OUT_OF_RANGE = Text("R-170", "Значение поля [{field}] вне допустимого диапазона", RECONSTRUCTED)
NOT_AN_OBJECT = Text("R-110", "Запись должна быть JSON-объектом", RECONSTRUCTED)
BAD_FORMAT: dict[str, Text] = {
    "guid": Text("R-130", "Поле [{field}] должно содержать GUID в нижнем регистре через дефис", RECONSTRUCTED),
    "oid": Text("R-130", "Поле [{field}] должно содержать OID (цифры, разделённые точками)", RECONSTRUCTED),
    "snils": Text(
        "R-150",
        "Поле [{field}] содержит некорректный СНИЛС (11 цифр с верной контрольной суммой)",
        RECONSTRUCTED,
    ),
    "fer-visit-time": Text("R-130", "Поле [{field}] должно иметь формат YYYY-MM-DDTHH:MI:SS", RECONSTRUCTED),
    "fer-timestamp": Text(
        "R-130", "Поле [{field}] должно иметь формат YYYY-MM-DDTHH:MI:SS (RFC3339/ISO8601)", RECONSTRUCTED
    ),
    "date": Text("R-130", "Поле [{field}] должно иметь формат YYYY-MM-DD", RECONSTRUCTED),
}
BAD_PATTERN = Text("R-130", "Поле [{field}] имеет неверный формат", RECONSTRUCTED)
BAD_DURATION = Text("R-110", "Поле [{field}] должно содержать целое число минут от 1 до 1440", RECONSTRUCTED)

# Whole-body problems (400, R-300).
NOT_JSON = Text(
    "R-300", "Формат переданных сведений некорректен и не соответствует требованиям: {reason}", RECONSTRUCTED
)
NO_DATA = Text(
    "R-300",
    'Формат переданных сведений некорректен и не соответствует требованиям: ожидается объект {"data": [...]}',
    RECONSTRUCTED,
)
WRONG_CONTENT_TYPE = Text(
    "R-300",
    "Формат переданных сведений некорректен и не соответствует требованиям: Content-Type должен быть "
    "application/json, получен '{content_type}'",
    RECONSTRUCTED,
)
TOO_MANY_RECORDS = Text(
    "413", "Размер запроса превышает допустимый: не более {limit} записей в одном запросе", RECONSTRUCTED
)

# Duplicates (FER-DUP-*): the seed's own texts.
DUP_IN_REQUEST = Text("R-310", "Уникальный идентификатор {genitive} [{field}] имеет дубликат внутри запроса", SEED)
DUP_MO_NAME = Text(
    "R-330",
    "Структурное подразделение с идентификатором [{id}] дублирует ранее загруженное в витрину структурное "
    "подразделение с таким наименованием [name] и с другим идентификатором [{other}].",
    SEED,
    prefixed=False,
)
DUP_SLOT_TIME = Text(
    "R-330",
    "Слот с идентификатором [{id}] и указанным в нем ресурсом [resource_id] и временем визита [visit_time] "
    "дублирует ранее загруженный в витрину слот с другим идентификатором [{other}].",
    SEED,
    prefixed=False,
)
DUP_SLOT_TIME_IN_REQUEST = Text(
    "R-310",
    "Слот с идентификатором [{id}] и указанным в нем ресурсом [resource_id] и временем визита [visit_time] "
    "дублирует слот с другим идентификатором [{other}] внутри запроса.",
    RECONSTRUCTED,
    prefixed=False,
)
DUP_MO_NAME_IN_REQUEST = Text(
    "R-310",
    "Структурное подразделение с идентификатором [{id}] дублирует структурное подразделение с таким наименованием "
    "[name] и с другим идентификатором [{other}] внутри запроса.",
    RECONSTRUCTED,
    prefixed=False,
)

# Integrity (FER-REF-*, FER-AUTH-5).
MISSING_PARENT = Text(
    "R-200",
    "Запись {parent} с идентификатором [{value}], указанная в поле [{field}], не найдена в витрине",
    RECONSTRUCTED,
)
PARENT_MISMATCH = Text(
    "R-200",
    "Ресурс [{resource_id}] относится к структурному подразделению [{actual}], "
    "а не к указанному в поле [mo_id] [{mo_id}]",
    RECONSTRUCTED,
)
BOOK_SLOT_NOT_RECORDED = Text(
    "R-210",
    "Перед выгрузкой бирки необходимо выгрузить слот со статусом RECORDED: слот [{slot_id}] имеет статус {status}",
    RECONSTRUCTED,
)
BOOK_ID_NOT_EXT_ID = Text(
    "R-220",
    "Запись на слот [{slot_id}] произведена через ЕПГУ: идентификатор бирки [{id}] должен совпадать с book_ext_id "
    "[{book_ext_id}]",
    RECONSTRUCTED,
)
FOREIGN_MO = Text(
    "R-230",
    "Нет полномочий на выполнение запроса: запись относится к МО [{owner}], а токен выдан МО [{principal}]",
    RECONSTRUCTED,
)

# Auth (FER-AUTH-*): /auth.svc answers in its own shape; the rest in the showcase envelope.
AUTH_BAD_CREDENTIALS = Text(None, "Неверное имя пользователя или пароль", RECONSTRUCTED)
AUTH_BAD_REQUEST = Text(None, "Некорректный запрос авторизации: {reason}", RECONSTRUCTED)
AUTH_MISSING = Text("401", "Требуется авторизация: отсутствует заголовок Authorization", RECONSTRUCTED)
AUTH_MALFORMED = Text(
    "401", "Требуется авторизация: заголовок Authorization должен иметь вид 'bearer <token>'", RECONSTRUCTED
)
AUTH_UNKNOWN = Text("401", "Требуется авторизация: токен не распознан", RECONSTRUCTED)
AUTH_EXPIRED = Text(
    "401", "Требуется авторизация: срок действия токена истёк, получите новый через /auth.svc", RECONSTRUCTED
)

NOT_FOUND_ID = Text("404", "Результат по заданному идентификатору SQL-запроса не найден: [{id}]", RECONSTRUCTED)
ID_REQUIRED = Text("R-300", "Не указан обязательный параметр [{name}]", RECONSTRUCTED)
BAD_DATE_PARAM = Text("R-300", "Параметр [{name}] должен иметь формат YYYY-MM-DD", RECONSTRUCTED)
BAD_OID_PARAM = Text("R-300", "Параметр [oid] должен содержать OID (цифры, разделённые точками): '{oid}'", RECONSTRUCTED)
DATES_REVERSED = Text(
    "R-300", "Параметр [startDate] ({start}) не может быть позже параметра [endDate] ({end})", RECONSTRUCTED
)

# Webhook registration (FER-CB-*): «Альтернативный поток 5а» — an error answer when the probe fails.
WEBHOOK_UNREACHABLE = Text("R-400", "Ошибка регистрации ответного сервиса. {reason}", RECONSTRUCTED)
WEBHOOK_BAD_ADDRESS = Text(
    "R-300",
    "Ошибка регистрации ответного сервиса: адрес '{address}' должен быть URL вида http(s)://host:port",
    RECONSTRUCTED,
)
WEBHOOK_BODY = Text(
    "R-300",
    'Ошибка регистрации ответного сервиса: ожидается {"address": "<URL>"} или {"address", "depart_oid"}',
    RECONSTRUCTED,
)
WEBHOOK_NONE = Text("404", "Ответный сервис для [{whom}] не зарегистрирован", RECONSTRUCTED)

# Booking and cancel answers of the MIS (Коды ошибок в ответе на запрос бронирования / отмены): the seed's
# own descriptions and user-facing texts, verbatim. status_code -> (описание ошибки, отображаемый текст).
BOOK_CODES: dict[int, tuple[str, str]] = {
    0: ("", "Переход на экран успешной записи – не отображается пользователю"),
    11: (
        "Бирка к врачу занята или заблокирована\nСлот заблокирован другим пациентом\nСлот занят или заблокирован\n"
        "Слот заблокирован другим пациентом",
        "Выбранное время занято\nВы не успели подтвердить бронирование. Выберите другое время",
    ),
    12: (
        "Есть бирка на то же время",
        "У вас есть запись к другому специалисту на то же время\nУ вас уже есть запись к другому специалисту на то "
        "же время. Отмените ее или выберите другое время для записи",
    ),
    13: (
        "Пациент имеет предстоящую запись к данному врачу или врачу данной специальности\nЕсть бирка на тот же день "
        "к тому же врачу",
        "У вас есть активная запись к специалисту на тот же день\nЗаписаться снова можно после того, как эта запись "
        "станет недействительна. Вы можете отменить её или записаться на другой день",
    ),
    14: (
        "Бирка только для пациентов ДО ГОДА\nБирка только для пациентов СТАРШЕ ГОДА\nБирка только для детей до 18 лет\n"
        "Бирка только для пациентов от 18 лет",
        "Слот не соответствует по возрасту\nВы не можете записаться к этому специалисту, так как он ведет прием для "
        "другой возрастной категории пациентов",
    ),
    15: (
        "Слот аннулирован",
        "Выбранное время недоступно\nДанный слот был аннулирован. Пожалуйста, выберите другое время",
    ),
    17: ("Пациент не найден", "Пользователь не найден\nПроверьте правильность указанных данных в личном кабинете"),
    18: (
        "Бирка не соответствующего типа\nИзвините, запись невозможна\nПередано неверное направление.\nСлот не найден\n"
        "Несоответствие в переданных данных для записи\nОшибка снятия блокировки",
        "Внутренняя ошибка сервиса\nОшибка при получении данных из медицинской организации",
    ),
}
_CANCEL_FAILED = (
    "Ошибка при отмене записи\nПроизошла ошибка. Попробуйте снова или зайдите позже. Если ничего не изменится, "
    "напишите в службу поддержки"
)
CANCEL_CODES: dict[int, tuple[str, str]] = {
    0: ("", "Переход на экран успешной записи – не отображается пользователю"),
    1: ("Запись с таким ИД уже отменена", _CANCEL_FAILED),
    18: ("Произошла техническая ошибка при отмене в МИС", _CANCEL_FAILED),
}
# The referral scenario's alternative outcomes (Запись на прием по направлению), reconstructed wording.
NO_REFERRAL = Text(None, "Нет направлений для записи", RECONSTRUCTED)
NO_SLOTS = Text(None, "Нет доступного времени для записи", RECONSTRUCTED)
NO_SLOTS_FOR_RESOURCE = Text(None, "Запись к врачу на этот день закончилась", RECONSTRUCTED)
