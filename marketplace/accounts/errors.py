from enum import StrEnum


class AccountErrorCode(StrEnum):
    EMAIL_TAKEN = "email_taken"
    WEAK_PASSWORD = "weak_password"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_TOKEN = "invalid_token"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    INVALID_IDENTITY_NUMBER = "invalid_identity_number"
