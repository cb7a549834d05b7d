"""The outbox topics catalog records (their names are stored with every event: never rename one)."""

#: A product changed (or many did): the key is its id, or "<first>..<last>" with the ids in the payload's
#: `product_ids` (see `catalog.services.record_search_changes`). Search re-indexes them.
SEARCH_PRODUCT_TOPIC = "search.product"
