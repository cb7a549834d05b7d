"""Personal data and secrets at rest: sealed (encrypted and authenticated, Fernet) under a key derived from
the app's SECRET_KEY for one purpose, and looked up by a keyed digest (HMAC-SHA256 under another key of the
same purpose) so that equal values can be found and counted without storing them in the clear."""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


@lru_cache(maxsize=32)
def _key(secret_key: str, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(secret_key.encode())


def _fernet(purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key(current_app.config["SECRET_KEY"], f"buybrics {purpose} v1")))


def seal(value: str, purpose: str) -> str:
    return _fernet(purpose).encrypt(value.encode()).decode()


def unseal(token: str, purpose: str) -> str:
    return _fernet(purpose).decrypt(token.encode()).decode()


def digest(value: str, purpose: str) -> str:
    key = _key(current_app.config["SECRET_KEY"], f"buybrics {purpose} digest v1")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
