"""Every Russian text the Netrika emulator sends, in one place. `SEED` texts are quoted from seed 001 verbatim;
`RECONSTRUCTED` ones are ours, in the same style, where the seed is silent (listed in contracts/netrika/README.md)."""

from __future__ import annotations

# The Message of each message type on success: the seed's examples (sections 5.1–5.6), verbatim.
SUCCESS_SEED = {
    "CDAStatus": "CDA успешно сформирован",
    "SEMDStatus": "СЭМД успешно загружен в ФИЭМК",
    "REMDStatus": "ЭМД успешно загружен в РЭМД",
    "MseResult": "Получены данные о регистрации ЭМД",
    "MseResultData": "ЭМД получен от РЭМД",
    "VimisResult": "Валидация документа прошла успешно",
}
# On Failed the seed shows no example: RECONSTRUCTED.
FAILED_RECONSTRUCTED = {
    "CDAStatus": "При формировании CDA-описания ЭМД возникли ошибки: не заполнено обязательное поле [Patient]",
    "SEMDStatus": "При выгрузке СЭМД в ФИЭМК возникли ошибки: документ не прошёл форматно-логический контроль",
    "REMDStatus": "При регистрации ЭМД в РЭМД возникли ошибки: электронная подпись документа не прошла проверку",
    "MseResult": "При регистрации документа в РЭМД ЕГИСЗ возникли ошибки",
    "MseResultData": "Не удалось получить документ из РЭМД ЕГИСЗ",
    "VimisResult": "Валидация документа завершилась с ошибками",
}
# The MIS's acknowledgement (section 6 example), used by the reference MIS.
ACK_SEED = "Сообщение принято успешно"
ACK_FAILED_RECONSTRUCTED = "Сообщение не обработано"

# VIMIS recipient systems (the seed: «ОНКО/АКиНЕО и т.д»; its example says «Онкология»).
VIMIS_RECIPIENTS = ("Онкология", "АКиНЕО", "ССЗ", "Профилактика", "Инфекционные заболевания")

# CDA: the document type names of 1.2.643.5.1.13.13.11.1115 the generator knows (33: the seed's example).
CDA_TITLES = {33: "Медицинское свидетельство о рождении"}
CDA_CODE_SYSTEM_NAME = "Система электронных медицинских документов"  # from the seed's CDA
MSE_DATA_TITLE = "Сведения о результатах проведенной медико-социальной экспертизы"  # from the seed's Data
MSE_BUREAU = "Федеральное казенное учреждение «Главное бюро медико-социальной экспертизы»"  # reconstructed

# Document intake (NET-6, reconstructed: the seed only refers to «API Модуля приема документов от МИС»).
INTAKE_ACCEPTED = "Документ принят в обработку"
INTAKE_NO_REPLY_TO = "Не указан адрес сервиса обратного вызова (заголовок Reply-To)"
INTAKE_BAD_REPLY_TO = "Некорректный адрес сервиса обратного вызова в заголовке Reply-To: '{value}'"
INTAKE_NOT_JSON = "Тело запроса не является корректным JSON"
INTAKE_NOT_OBJECT = "JSON-описание документа должно быть объектом"
INTAKE_REQUIRED = "Не заполнено обязательное поле [{field}]"
INTAKE_WRONG_TYPE = "Поле [{field}] имеет неверный тип данных, ожидается {expected}"
INTAKE_NOT_FOUND = "Документ с идентификатором IdMedDocument = {id} не найден"
INTAKE_TOO_LARGE = "Размер запроса превышает допустимый"
INTAKE_MAINTENANCE = "Сервис временно недоступен, выполняются технические работы"
INTAKE_INTERNAL = "Внутренняя ошибка сервиса"
