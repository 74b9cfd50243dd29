"""Two-factor login (TOTP, RFC 6238): the user events and the auth requests.

The events belong to the user aggregate. They never carry a usable secret:
the TOTP seed is sealed (AES-GCM, key only the auth service holds) and the
recovery codes are kept as digests.
"""

from __future__ import annotations

from typing import ClassVar

from phoenix_contracts.base import Event, Message
from phoenix_contracts.identity import USER


class UserTwoFactorEnabled(Event, frozen=True, kw_only=True, tag="user.two_factor_enabled"):
    """``sealed_secret`` is the encrypted seed; ``recovery_code_digests`` SHA-256 of each code."""

    aggregate: ClassVar[str] = USER
    sealed_secret: str
    recovery_code_digests: list[str]


class UserTwoFactorDisabled(Event, frozen=True, kw_only=True, tag="user.two_factor_disabled"):
    aggregate: ClassVar[str] = USER


class UserRecoveryCodeUsed(Event, frozen=True, kw_only=True, tag="user.recovery_code_used"):
    """One recovery code was spent (named by its digest) and never works again."""

    aggregate: ClassVar[str] = USER
    digest: str


TwoFactorEvent = UserTwoFactorEnabled | UserTwoFactorDisabled | UserRecoveryCodeUsed


# --- requests to the auth service (phx.auth.<verb>), on behalf of a signed-in user ---


class StartTwoFactor(Message, frozen=True, kw_only=True, tag="start_two_factor"):
    """A fresh secret, pending until confirmed with a code from it."""

    verb: ClassVar[str] = "two_factor_start"
    user_id: str
    current_password: str


class TwoFactorEnrolment(Message, frozen=True, kw_only=True, tag="two_factor_enrolment"):
    secret: str  # base32, for typing into an authenticator app
    uri: str  # otpauth://totp/..., for a QR code
    expires_in: int  # seconds until the pending secret is forgotten


class ConfirmTwoFactor(Message, frozen=True, kw_only=True, tag="confirm_two_factor"):
    verb: ClassVar[str] = "two_factor_confirm"
    user_id: str
    organization_id: str
    code: str
    correlation_id: str = ""


class RecoveryCodes(Message, frozen=True, kw_only=True, tag="recovery_codes"):
    """Shown once, at confirmation; each works once instead of a TOTP code."""

    codes: list[str]


class DisableTwoFactor(Message, frozen=True, kw_only=True, tag="disable_two_factor"):
    """Needs the password and a current TOTP code or an unused recovery code."""

    verb: ClassVar[str] = "two_factor_disable"
    user_id: str
    organization_id: str
    current_password: str
    code: str
    correlation_id: str = ""


class GetTwoFactor(Message, frozen=True, kw_only=True, tag="get_two_factor"):
    verb: ClassVar[str] = "two_factor_status"
    user_id: str


class TwoFactorStatus(Message, frozen=True, kw_only=True, tag="two_factor_status"):
    enabled: bool
    recovery_codes_left: int = 0
    pending: bool = False  # a secret was issued and awaits confirmation
