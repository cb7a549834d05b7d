"""The storefront: what shoppers see. Product pages and search, priced by promotions.pricing; the HTTP
routes of the product catalog (the vendors' product writes go through catalog.services)."""
