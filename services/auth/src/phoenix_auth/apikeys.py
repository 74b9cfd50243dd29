"""API keys: ``phx_<prefix><secret>_<checksum>``, kept only as prefix + digest.

- 96 bits of lookup prefix and 256 bits of secret, base64url;
- a CRC32 checksum lets a mistyped or truncated key be refused without a
  database lookup (and lets secret scanners recognise Phoenix keys);
- the database holds the prefix (to find the row) and a SHA-256 digest of the
  whole key, compared in constant time. A plain hash is enough here: the key
  is 256 random bits, not a password anyone could guess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import zlib
from dataclasses import dataclass

PREFIX_BYTES = 12
SECRET_BYTES = 32
MARK = "phx_"


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    digest: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _checksum(body: str) -> str:
    return f"{zlib.crc32(body.encode()) & 0xFFFFFFFF:08x}"


def new_key() -> tuple[str, ParsedKey]:
    """A fresh key (to show once) and what may be stored of it."""
    prefix = _b64(secrets.token_bytes(PREFIX_BYTES))
    body = prefix + _b64(secrets.token_bytes(SECRET_BYTES))
    key = f"{MARK}{body}_{_checksum(body)}"
    return key, ParsedKey(prefix=prefix, digest=digest(key))


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse(key: str) -> ParsedKey | None:
    """The stored form of ``key``, or None if it cannot be a Phoenix key."""
    if not key.startswith(MARK) or len(key) > 128:
        return None
    body, _, checksum = key[len(MARK) :].rpartition("_")
    if not body or not hmac.compare_digest(checksum, _checksum(body)):
        return None
    return ParsedKey(prefix=body[: len(_b64(bytes(PREFIX_BYTES)))], digest=digest(key))


def matches(stored_digest: str, parsed: ParsedKey) -> bool:
    return hmac.compare_digest(stored_digest, parsed.digest)
