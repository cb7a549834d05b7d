from enum import StrEnum


class RateErrorCode(StrEnum):
    NO_RATE = "no_exchange_rate"
    UNSUPPORTED_CURRENCY = "unsupported_currency"
