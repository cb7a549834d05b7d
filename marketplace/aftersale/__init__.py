"""After-sale: what a shopper, a vendor and an operator can do once an order is placed — returns, online
dispute resolution, one message thread per vendor order, and verified reviews. It sits above checkout (it
refunds through checkout's refunds and books through its payout ledger) and publishes its partner events
(`return.*`, `dispute.*`, `review.published`) through the kernel's outbox."""
