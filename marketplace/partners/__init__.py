"""The partner API: integrators (ERPs, marketplaces' connectors, PIM tools) that vendors authorize.

A partner holds API keys (`partners` CLI), syncs listings for the vendors
that authorized it (`/api/v1/partner/listings`), and hears about its vendors'
orders and listings through signed webhooks delivered by `flask worker`.
"""
