from enum import StrEnum


class ReviewErrorCode(StrEnum):
    REVIEW_NOT_FOUND = "review_not_found"
    ORDER_LINE_NOT_FOUND = "order_line_not_found"
    NOT_DELIVERED = "not_delivered"
    ALREADY_REVIEWED = "already_reviewed"
    INVALID_REVIEW_STATE = "invalid_review_state"
    ALREADY_REPLIED = "already_replied"
    ALREADY_REPORTED = "already_reported"
    NOT_REVIEW_VENDOR = "not_review_vendor"
