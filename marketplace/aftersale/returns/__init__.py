"""Returns of delivered goods: the shopper asks, the vendor answers, the goods travel back, and the return ends
refunded (from what was paid for those units), replaced, or closed; unanswered requests escalate to a dispute."""
