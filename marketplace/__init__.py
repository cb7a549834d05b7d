"""Buy BRICS marketplace: the shared kernel (`kernel/`), the capabilities built on it (`accounts/`, `rates/`,
`storefront/`, `checkout/`, `partners/`) and the application factory (`app.py`)."""
