from enum import StrEnum

from marketplace.kernel.errors import DomainError


class PartnerErrorCode(StrEnum):
    INVALID_API_KEY = "invalid_api_key"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    PARTNER_NOT_FOUND = "partner_not_found"
    KEY_NOT_FOUND = "api_key_not_found"
    NOT_VENDOR_OWNER = "not_vendor_owner"
    VENDOR_NOT_FOUND = "vendor_not_found"
    GRANT_NOT_FOUND = "partner_grant_not_found"
    VENDOR_NOT_AUTHORIZED = "vendor_not_authorized"
    VENDOR_MISMATCH = "listing_vendor_mismatch"
    DUPLICATE_EXTERNAL_ID = "duplicate_external_id"
    LISTING_NOT_FOUND = "listing_not_found"
    INVALID_CURSOR = "invalid_cursor"
    JOB_NOT_FOUND = "sync_job_not_found"
    TOO_MANY_LISTINGS = "too_many_listings"
    EMPTY_JOB = "empty_sync_job"
    INVALID_LINE = "invalid_line"
    WEBHOOK_NOT_FOUND = "webhook_not_found"
    DELIVERY_NOT_FOUND = "webhook_delivery_not_found"
    INVALID_WEBHOOK_URL = "invalid_webhook_url"
    TOO_MANY_WEBHOOKS = "too_many_webhooks"


class PayloadTooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415
