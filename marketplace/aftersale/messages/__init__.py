"""One message thread per vendor order, between the shopper, the vendor and operators; returns and disputes
post their events into it as system messages."""
