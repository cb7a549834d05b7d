from enum import StrEnum


class ReturnErrorCode(StrEnum):
    RETURN_NOT_FOUND = "return_not_found"
    ORDER_NOT_FOUND = "order_not_found"
    VENDOR_ORDER_NOT_FOUND = "vendor_order_not_found"
    NOT_DELIVERED = "vendor_order_not_delivered"
    RETURN_WINDOW_CLOSED = "return_window_closed"
    LINE_NOT_IN_VENDOR_ORDER = "line_not_in_vendor_order"
    DUPLICATE_LINE = "duplicate_return_line"
    TOO_MANY_UNITS = "too_many_units"
    INVALID_RETURN_STATE = "invalid_return_state"
