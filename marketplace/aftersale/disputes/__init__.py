"""Online dispute resolution (after the UNCITRAL Technical Notes on ODR, 2016): negotiation between the
shopper and the vendor, facilitated settlement with an operator, an operator's decision, closing."""
