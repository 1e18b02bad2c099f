"""Every Russian text of the LMIS emulator, in one place: the seed's sentences verbatim, the rest reconstructed.

`SEED` texts are quoted from `003_add7b9ee1392ee7b.txt` (tests/golden/lmis holds the same lines and a test
checks both against the seed); `RECONSTRUCTED` ones are medstand's, in the same style, and are listed in
contracts/lmis/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["seed", "reconstructed"]


@dataclass(frozen=True)
class Text:
    code: str
    template: str
    source: Source = "reconstructed"

    def format(self, **values: object) -> str:
        return self.template.format(**values)


# -- the seed's rules, verbatim --------------------------------------------------------------------------
RULE_UPLOAD = (
    "Соответственно для того чтобы API выдавало новую ЛМИС в списке ЛПУ пациента, нужно данные (МКАБ) "
    "пациента загрузить в МИП."
)
RULE_BLOCKED = (
    "Если пациента не будет в МИП или информация о направлении не будет получена дальнейшие действия не имеют "
    "смысла, процесс записи будет заблокирован."
)
RULE_EXISTS = (
    "Если запись найдена - процесс записи блокируется. Пользователю предлагается отменить существующую запись."
)
SEED_RULES = (RULE_UPLOAD, RULE_BLOCKED, RULE_EXISTS)

# -- the central API's errors (envelope error.errorCode / errorMessage) ----------------------------------------
NOT_JSON = Text("NOT_JSON", "Тело запроса не является корректным JSON: {reason}")
WRONG_CONTENT_TYPE = Text("NOT_JSON", "Ожидается Content-Type: application/json, получен {content_type}")
BAD_REQUEST = Text("BAD_REQUEST", "Формат переданных сведений некорректен: {reason}")
BAD_CARD = Text("BAD_CARD", "В МКАБ '{mkab_id}': {reason}")
BAD_CARD_NO_ID = Text("BAD_CARD", "В МКАБ №{index}: {reason}")
CARDS_REJECTED = Text("BAD_CARD", "Часть МКАБ не загружена в МИП: {count} с ошибками")
TOO_MANY_CARDS = Text("TOO_MANY", "В одном запросе допускается не более {limit} МКАБ, передано {count}")
NO_KEY = Text("UNAUTHORIZED", "Требуется авторизация: укажите ключ ЛМИС в заголовке Authorization: Bearer <ключ>")
BAD_KEY = Text("UNAUTHORIZED", "Ключ ЛМИС не найден в справочнике ЛПУ")
PATIENT_NOT_FOUND = Text("PATIENT_NOT_FOUND", "Пациент [{patient_id}] не найден в Мастер Индексе Пациентов (МИП)")
CLINIC_NOT_FOUND = Text("CLINIC_NOT_FOUND", "ЛПУ [{clinic_id}] не зарегистрировано в справочнике ЛПУ")
SEARCH_NEEDS = Text("BAD_REQUEST", "Укажите snils, oms_number или last_name, first_name и birth_date")
BAD_PARAM = Text("BAD_REQUEST", "Параметр {name}: {reason}")
STATUS = {
    404: Text("NOT_FOUND", "Метод не найден"),
    405: Text("METHOD_NOT_ALLOWED", "Метод не поддерживается"),
    413: Text("TOO_LARGE", "Размер запроса превышает допустимый"),
    500: Text("SYSTEM_ERROR", "Системная ошибка"),
    503: Text("MAINTENANCE", "Выполняются технические работы"),
}

# -- what a portal shows when the flow stops (FlowResult.user_message) ------------------------------------------
USER_NO_PATIENT = "Пациент не найден в Мастер Индексе Пациентов (МИП): запись на прием невозможна"
USER_NOT_LISTED = "ЛПУ «{clinic}» нет в списке ЛПУ пациента: запись на прием в это ЛПУ невозможна"
USER_NO_REFERRAL = "Информация о направлении не получена от направившего ЛПУ: запись на прием невозможна"
USER_EXISTS = "По направлению уже есть запись на прием (талон {ticket}). Отменить существующую запись?"
USER_NO_SLOTS = "Нет свободного времени для записи"
USER_FAILED = "Не удалось записаться на прием: ЛМИС не ответила. Повторите попытку позже"
USER_BOOKED = "Вы записаны на прием, номер талона {ticket}"
USER_CANCELLED = "Запись на прием отменена"

# -- the local MIS's business errors (contracts/lmis/local-mis.openapi.yaml, Error.code) ------------------------
LOCAL_ERRORS: dict[str, tuple[int, str]] = {
    "SLOT_NOT_FOUND": (404, "Слот расписания не найден"),
    "SLOT_TAKEN": (409, "Слот расписания уже занят"),
    "PATIENT_NOT_FOUND": (404, "Пациент не найден в ЛМИС"),
    "REFERRAL_NOT_FOUND": (404, "Направление не найдено"),
    "APPOINTMENT_NOT_FOUND": (404, "Запись на прием не найдена"),
    "ALREADY_CANCELLED": (409, "Запись на прием уже отменена"),
    "RESOURCE_NOT_FOUND": (404, "Ресурс не найден"),
    "TOKEN_INVALID": (401, "Токен пациента не принят"),
}
