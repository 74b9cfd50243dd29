"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) and
recovery codes. Pure: the time and the random bytes are passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # a code of the step before or after is accepted: clocks and typing are slow
ISSUER = "Phoenix"
SECRET_BYTES = 20  # 160 bits, the HMAC-SHA1 block RFC 4226 recommends
CODE = re.compile(r"[0-9]{6}")
# Crockford base32: 32 symbols (no modulo bias from a byte), no i, l, o or u to misread.
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RECOVERY = re.compile(r"[a-z0-9]{5}-?[a-z0-9]{5}")


def hotp(secret: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226: the dynamically truncated HMAC-SHA1 of the counter."""
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def step_at(unix_time: float) -> int:
    return int(unix_time // STEP_SECONDS)


def totp(secret: bytes, unix_time: float, digits: int = DIGITS) -> str:
    return hotp(secret, step_at(unix_time), digits)


def normalize_code(code: str) -> str:
    """Authenticator apps show ``123 456``; people paste it that way."""
    return "".join(code.split())


def matching_step(secret: bytes, code: str, unix_time: float, last_used_step: int) -> int | None:
    """The step ``code`` belongs to, within the drift window and newer than the last one used.

    Refusing steps not after ``last_used_step`` is the replay protection: a code
    seen once (even by a shoulder-surfer) never works again. Every candidate is
    compared in constant time, and all of them are compared.
    """
    code = normalize_code(code)
    if not CODE.fullmatch(code):
        return None
    now = step_at(unix_time)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(secret, step), code) and step > last_used_step:
            found = step
    return found


def encode_secret(secret: bytes) -> str:
    """Base32 without padding, the form authenticator apps expect."""
    return base64.b32encode(secret).decode().rstrip("=")


def decode_secret(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def provisioning_uri(username: str, secret: bytes) -> str:
    """The ``otpauth://`` URI a QR code carries (Google Authenticator's key-uri format)."""
    label = quote(f"{ISSUER}:{username}", safe=":@")
    query = urlencode({"secret": encode_secret(secret), "issuer": ISSUER})
    return f"otpauth://totp/{label}?{query}"


# --- recovery codes ------------------------------------------------------------


def recovery_code(random_bytes: bytes) -> str:
    """``xxxxx-xxxxx`` from 10 random bytes (about 50 bits: unguessable within the throttle)."""
    letters = "".join(RECOVERY_ALPHABET[b % 32] for b in random_bytes[:10])
    return f"{letters[:5]}-{letters[5:]}"


def recovery_digest(code: str) -> str:
    """What is stored: SHA-256 of the code without its dash and case (typed either way).

    The codes are random, not chosen by people, so a fast hash is enough.
    """
    canonical = normalize_code(code).lower().replace("-", "")
    return hashlib.sha256(canonical.encode()).hexdigest()


def matching_recovery_digest(code: str, unused_digests: list[str]) -> str | None:
    """The stored digest ``code`` matches, comparing against every digest in constant time."""
    if not RECOVERY.fullmatch(normalize_code(code).lower()):
        return None
    digest = recovery_digest(code)
    found = None
    for candidate in unused_digests:
        if hmac.compare_digest(candidate, digest):
            found = candidate
    return found
