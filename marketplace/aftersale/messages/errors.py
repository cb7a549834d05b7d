from enum import StrEnum


class MessageErrorCode(StrEnum):
    THREAD_NOT_FOUND = "message_thread_not_found"
