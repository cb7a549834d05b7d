from enum import StrEnum

from marketplace.kernel.errors import DomainError


class CheckoutErrorCode(StrEnum):
    CART_EMPTY = "cart_empty"
    CART_ITEM_NOT_FOUND = "cart_item_not_found"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    INSUFFICIENT_STOCK = "insufficient_stock"
    ORDER_NOT_FOUND = "order_not_found"
    VENDOR_ORDER_NOT_FOUND = "vendor_order_not_found"
    INVALID_ORDER_STATE = "invalid_order_state"
    REFUND_EXCEEDS_PAID = "refund_exceeds_paid"
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    UNSUPPORTED_PAYMENT_CURRENCY = "unsupported_payment_currency"
    INVALID_WEBHOOK = "invalid_webhook_signature"
    NO_VENDOR_PROFILE = "no_vendor_profile"
    SHIPPING_UNAVAILABLE = "shipping_unavailable"
    UNKNOWN_SHIPPING_SERVICE = "unknown_shipping_service"
    WEIGHT_REQUIRED = "weight_required"
    CUSTOMS_IDENTITY_REQUIRED = "customs_identity_required"
    CUSTOMS_IDENTITY_MISMATCH = "customs_identity_mismatch"


class PaymentUnavailable(DomainError):
    """The payment provider refused or did not answer: a 502 (retry with the same Idempotency-Key)."""

    status = 502
