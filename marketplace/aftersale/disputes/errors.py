from enum import StrEnum


class DisputeErrorCode(StrEnum):
    DISPUTE_NOT_FOUND = "dispute_not_found"
    PROPOSAL_NOT_FOUND = "proposal_not_found"
    VENDOR_ORDER_NOT_FOUND = "vendor_order_not_found"
    VENDOR_ORDER_NOT_DISPUTABLE = "vendor_order_not_disputable"
    DISPUTE_ALREADY_OPEN = "dispute_already_open"
    INVALID_DISPUTE_STAGE = "invalid_dispute_stage"
    INVALID_PROPOSAL_STATE = "invalid_proposal_state"
    NOT_A_PARTY = "not_a_party"
    OWN_PROPOSAL = "own_proposal"
    INVALID_TYPE = "invalid_dispute_type"
    WRONG_CURRENCY = "wrong_currency"
    CLAIM_NOT_POSITIVE = "claim_not_positive"
    EXCEEDS_REFUNDABLE = "exceeds_refundable"
