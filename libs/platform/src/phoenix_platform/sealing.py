"""Encryption of secrets that must be kept but not readable from the event log
(two-factor seeds, channel credentials): AES-256-GCM with ``PHOENIX_SECRETS_KEY``.

The ciphertext is bound to what it belongs to (``context``, e.g. the user id)
as associated data, so a sealed secret copied onto another user does not open.
Format: ``v1.<base64url(nonce ‖ ciphertext ‖ tag)>``; the version leaves room
for key rotation.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12


class SealError(Exception):
    """The sealed value was tampered with, is malformed, or was sealed with another key."""


def parse_key(text: str) -> bytes:
    """A key is 32 random bytes, written as (url-safe or standard) base64."""
    try:
        text = text.strip().replace("+", "-").replace("/", "_")
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("must be base64 of 32 random bytes") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must be base64 of 32 random bytes (got {len(key)} bytes)")
    return key


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def seal(key: bytes, plaintext: bytes, context: str) -> str:
    nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonces: fine far below 2^32 seals per key
    sealed = nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())
    return f"{VERSION}.{base64.urlsafe_b64encode(sealed).decode()}"


def unseal(key: bytes, token: str, context: str) -> bytes:
    version, _, body = token.partition(".")
    if version != VERSION:
        raise SealError("unknown sealed format")
    try:
        raw = base64.urlsafe_b64decode(body)
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
    except (binascii.Error, ValueError, InvalidTag):
        raise SealError("cannot open the sealed value") from None


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(VERSION + ".")
