from enum import StrEnum


class PromotionErrorCode(StrEnum):
    CAMPAIGN_NOT_FOUND = "campaign_not_found"
    ENROLLMENT_NOT_FOUND = "enrollment_not_found"
    SLUG_TAKEN = "campaign_slug_taken"
    INVALID_WINDOW = "invalid_campaign_window"
    INVALID_TRANSITION = "invalid_campaign_transition"
    UNSAFE_CHANGE = "unsafe_campaign_change"
    NOT_A_MANAGER = "not_a_campaign_manager"
    NOT_PRODUCT_OWNER = "not_product_owner"
    UNKNOWN_CATEGORY = "unknown_category"
