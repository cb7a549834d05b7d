"""The shared kernel every area imports and that imports no area: the Flask extensions, the error shape,
money, the clock, the transactional outbox and domain events, idempotency, i18n, schema rules, database
types and session events, JSON decoding and request limits, the worker loop."""
