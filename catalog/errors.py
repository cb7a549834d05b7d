from enum import StrEnum


class CatalogErrorCode(StrEnum):
    PRODUCT_NOT_FOUND = "product_not_found"
    SKU_TAKEN = "sku_taken"
    UNKNOWN_CATEGORY = "unknown_category"
    INVALID_HS_CODE = "invalid_hs_code"
    NOT_PRODUCT_OWNER = "not_product_owner"
    LAST_TRANSLATION = "last_translation"
    INVALID_ORIGINAL_LOCALE = "invalid_original_locale"
