from enum import StrEnum


class VendorErrorCode(StrEnum):
    COUNTRY_NOT_ELIGIBLE = "country_not_eligible"
    INVALID_TAX_ID = "invalid_tax_id"
    TAX_ID_TAKEN = "tax_id_taken"
    INVALID_PHONE = "invalid_phone"
    PROFILE_EXISTS = "vendor_profile_exists"
    MSME_INPUT_MISSING = "msme_input_missing"
    INVALID_TRANSITION = "invalid_status_transition"
    NOT_FOUND = "vendor_not_found"
    NOT_OWNER = "not_vendor_owner"
    NO_VENDOR_PROFILE = "no_vendor_profile"
    DISCLOSURES_MISSING = "disclosures_missing"
    INVALID_SHIPPING_PROFILE = "invalid_shipping_profile"
