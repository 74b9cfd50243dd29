"""Status-page passwords: scrypt (standard library), hashed off the event loop.

A page password is shared with an audience rather than owned by one person,
so it gets a memory-hard hash with a per-page salt, and only the hash is ever
sent to the config role or stored.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

# 128 * r * 2^14 bytes = 16 MiB per hash: OWASP's scrypt minimum.
LOG_N, R, P, LENGTH = 14, 8, 1, 32
PREFIX = "$scrypt$"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, log_n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=2**log_n, r=r, p=p, dklen=length, maxmem=64 * 1024 * 1024
    )


def hash_password_sync(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, LOG_N, R, P, LENGTH)
    return f"{PREFIX}ln={LOG_N},r={R},p={P}${_b64(salt)}${_b64(digest)}"


def verify_password_sync(password_hash: str, password: str) -> bool:
    try:
        _, _, params, salt, digest = password_hash.split("$")
        fields = dict(item.split("=") for item in params.split(","))
        expected = _unb64(digest)
        actual = _scrypt(
            password,
            _unb64(salt),
            int(fields["ln"]),
            int(fields["r"]),
            int(fields["p"]),
            len(expected),
        )
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(actual, expected)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hash_password_sync, password)


async def verify_password(password_hash: str, password: str) -> bool:
    if not password_hash:
        return False
    return await asyncio.to_thread(verify_password_sync, password_hash, password)


def fingerprint(password_hash: str) -> str:
    """Names the password in force, so a changed password ends every unlock made with the old."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]
