"""Twilio channel: one SMS per number through the Programmable Messaging API.

For each of ``to_numbers``::

    POST {api_url}/2010-04-01/Accounts/{account_sid}/Messages.json
    Authorization: Basic base64(account_sid:auth_token)
    To=+15550001111&From=+15550002222&Body=Shop is down: timeout …

The body is short on purpose (the title and the reason, at most 320
characters: two to three SMS segments) and carries no emoji, which would
switch the whole SMS to UCS-2 and halve each segment.

Every number is tried even when an earlier one fails, so one bad number does
not silence the others. Twilio answers errors with
``{"code": 21211, "message": "...", "more_info": "...", "status": 400}``: 400
(invalid number, unverified sender), 401 (bad credentials) and 404 (unknown
account) are permanent; 429 and 5xx transient. When some numbers failed, the
error is transient if any failure was, permanent otherwise.
"""

from __future__ import annotations

from urllib.parse import urlencode

from phoenix_contracts.channels import TwilioConfig
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.answers import (
    basic_auth,
    json_object,
    raw_detail,
    refuse,
    short,
)
from phoenix_notifier.channels.base import HttpChannel, HttpRequest, TransportError
from phoenix_notifier.message import Notice

BODY_LIMIT = 320


def body_of(notice: Notice) -> str:
    reason = " ".join(notice.reason.split())
    text = f"{notice.title}: {reason}" if reason else notice.title
    return text if len(text) <= BODY_LIMIT else text[: BODY_LIMIT - 1] + "…"


def tail(number: str) -> str:
    """A phone number as an error message shows it: enough to tell which, not the whole."""
    return "…" + number[-4:]


class TwilioChannel(HttpChannel):
    type = "twilio"

    def render(self, notice: Notice, config: TwilioConfig) -> list[HttpRequest]:
        url = f"{config.api_url.rstrip('/')}/2010-04-01/Accounts/{config.account_sid}/Messages.json"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": basic_auth(config.account_sid, config.auth_token),
        }
        body = body_of(notice)
        return [
            HttpRequest(
                url=url,
                headers=headers,
                body=urlencode({"To": number, "From": config.from_number, "Body": body}).encode(),
            )
            for number in config.to_numbers
        ]

    def check(self, response: Fetched) -> None:
        body = json_object(response)
        if body.get("message"):
            code = body.get("code")
            detail = short(f"Twilio error {code}: {body['message']}" if code else body["message"])
        else:
            detail = raw_detail(response)
        refuse(response, detail)

    async def deliver(self, notice: Notice, config: TwilioConfig) -> None:
        failures: list[tuple[str, TransportError]] = []
        for number, request in zip(config.to_numbers, self.render(notice, config), strict=True):
            try:
                self.check(await self._transport.send(request))
            except TransportError as exc:
                failures.append((number, exc))
        if not failures:
            return
        transient = [exc for _, exc in failures if not exc.permanent]
        delays = [exc.retry_after for exc in transient if exc.retry_after is not None]
        message = "; ".join(f"to {tail(number)}: {exc}" for number, exc in failures)
        raise TransportError(
            f"{len(failures)} of {len(config.to_numbers)} SMS failed: {message}",
            permanent=not transient,
            retry_after=max(delays) if delays else None,
        )

    def secrets(self, config: TwilioConfig) -> list[str]:
        return [config.auth_token, basic_auth(config.account_sid, config.auth_token)[6:]]
