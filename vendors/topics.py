"""The outbox topics vendors records (their names are stored with every event: never rename one)."""

#: A vendor's products enter or leave the public catalog, or show another vendor name or MSME class: the key
#: is the vendor's id. Search re-indexes the vendor's products.
SEARCH_VENDOR_TOPIC = "search.vendor"
