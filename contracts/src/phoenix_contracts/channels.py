"""What each notification channel type needs: its config, and which fields are secrets.

One struct per channel type. The gateway validates a channel's ``config``
against it before the channel is created (unknown fields refused), the config
role seals the ``SECRETS`` fields before the event is written, and the
notifier's plug-in reads the same struct. ``*_url`` fields that name a
service's API (``api_url``, ``server_url``) default to the public service and
exist for self-hosted servers and for tests.

Every channel also takes optional ``title_template`` and ``text_template``:
placeholders only (see ``TEMPLATE_FIELDS``), no logic.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

# MASK is how the API shows a secret; sending it back keeps the stored one.
from phoenix_contracts.sealed import MASK as MASK
from phoenix_contracts.sealed import Secrets, defaults_of
from phoenix_contracts.urls import url_problem

Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Secret = Annotated[str, msgspec.Meta(max_length=4096)]
Template = Annotated[str, msgspec.Meta(max_length=2000)]
HeaderName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9-]{1,64}$")]
HeaderValue = Annotated[str, msgspec.Meta(pattern=r"^[^\r\n\x00]{0,1024}$")]

# What a template may name: ``{{monitor.name}}`` and so on. Nothing else.
TEMPLATE_FIELDS = (
    "event",
    "status",
    "previous_status",
    "reason",
    "monitor.name",
    "monitor.url",
    "monitor.id",
    "occurred_at",
    "incident_id",
)


class _Config(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title_template: Template = ""
    text_template: Template = ""


class WebhookConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    url: Url
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: Annotated[dict[HeaderName, HeaderValue], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=dict
    )
    # Signs each body: X-Phoenix-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">.
    secret: Secret = ""


class EmailConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    host: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: Text = ""
    password: Secret = ""
    # "Name <address>" or an address; one line.
    from_address: Annotated[
        str, msgspec.Meta(pattern=r"^[^\r\n@]*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$", max_length=320)
    ]
    to: Annotated[
        list[Annotated[str, msgspec.Meta(pattern=r"^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$")]],
        msgspec.Meta(min_length=1, max_length=20),
    ]


class SlackConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    webhook_url: Url  # an incoming-webhook URL: it is the credential


class DiscordConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    webhook_url: Url
    username: Text = ""


class TeamsConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    webhook_url: Url  # a Workflows (or legacy connector) webhook


class GoogleChatConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    webhook_url: Url


class MattermostConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    webhook_url: Url
    channel: Text = ""
    username: Text = ""


class TelegramConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    bot_token: Secret
    chat_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    api_url: Url = "https://api.telegram.org"


class NtfyConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    server_url: Url = "https://ntfy.sh"
    topic: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    token: Secret = ""  # access token for protected topics


class GotifyConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    server_url: Url
    app_token: Secret
    priority: Annotated[int, msgspec.Meta(ge=0, le=10)] = 5


class PushoverConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    user_key: Secret
    app_token: Secret
    api_url: Url = "https://api.pushover.net"


class MatrixConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    homeserver_url: Url
    access_token: Secret
    room_id: Annotated[str, msgspec.Meta(min_length=3, max_length=255)]


class PagerDutyConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    routing_key: Secret  # an Events API v2 integration key
    api_url: Url = "https://events.pagerduty.com"


class OpsgenieConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    api_key: Secret
    api_url: Url = "https://api.opsgenie.com"  # https://api.eu.opsgenie.com in the EU


class TwilioConfig(_Config, forbid_unknown_fields=True, kw_only=True):
    account_sid: Annotated[str, msgspec.Meta(pattern=r"^AC[0-9a-fA-F]{32}$")]
    auth_token: Secret
    from_number: Annotated[str, msgspec.Meta(pattern=r"^\+[1-9][0-9]{6,14}$")]
    to_numbers: Annotated[
        list[Annotated[str, msgspec.Meta(pattern=r"^\+[1-9][0-9]{6,14}$")]],
        msgspec.Meta(min_length=1, max_length=10),
    ]
    api_url: Url = "https://api.twilio.com"


ChannelType = Literal[
    "webhook",
    "email",
    "slack",
    "discord",
    "teams",
    "google_chat",
    "mattermost",
    "telegram",
    "ntfy",
    "gotify",
    "pushover",
    "matrix",
    "pagerduty",
    "opsgenie",
    "twilio",
]

CONFIGS: dict[str, type[_Config]] = {
    "webhook": WebhookConfig,
    "email": EmailConfig,
    "slack": SlackConfig,
    "discord": DiscordConfig,
    "teams": TeamsConfig,
    "google_chat": GoogleChatConfig,
    "mattermost": MattermostConfig,
    "telegram": TelegramConfig,
    "ntfy": NtfyConfig,
    "gotify": GotifyConfig,
    "pushover": PushoverConfig,
    "matrix": MatrixConfig,
    "pagerduty": PagerDutyConfig,
    "opsgenie": OpsgenieConfig,
    "twilio": TwilioConfig,
}

# Sealed before they reach an event, masked in every API answer. Webhook URLs
# of chat services carry their token in the path, so they count as secrets.
SECRETS: dict[str, frozenset[str]] = {
    "webhook": frozenset({"secret"}),
    "email": frozenset({"password"}),
    "slack": frozenset({"webhook_url"}),
    "discord": frozenset({"webhook_url"}),
    "teams": frozenset({"webhook_url"}),
    "google_chat": frozenset({"webhook_url"}),
    "mattermost": frozenset({"webhook_url"}),
    "telegram": frozenset({"bot_token"}),
    "ntfy": frozenset({"token"}),
    "gotify": frozenset({"app_token"}),
    "pushover": frozenset({"user_key", "app_token"}),
    "matrix": frozenset({"access_token"}),
    "pagerduty": frozenset({"routing_key"}),
    "opsgenie": frozenset({"api_key"}),
    "twilio": frozenset({"auth_token"}),
}

# What decides where a channel's secrets are sent: changing any of these makes a
# kept (masked) secret be sent again. ``headers``: its entries that are not
# secrets (a ``Host`` changes where a request lands).
DESTINATIONS: dict[str, frozenset[str]] = {
    "webhook": frozenset({"url", "headers"}),
    "email": frozenset({"host", "port", "security", "username"}),
    "slack": frozenset({"webhook_url"}),
    "discord": frozenset({"webhook_url"}),
    "teams": frozenset({"webhook_url"}),
    "google_chat": frozenset({"webhook_url"}),
    "mattermost": frozenset({"webhook_url"}),
    "telegram": frozenset({"api_url"}),
    "ntfy": frozenset({"server_url"}),
    "gotify": frozenset({"server_url"}),
    "pushover": frozenset({"api_url"}),
    "matrix": frozenset({"homeserver_url"}),
    "pagerduty": frozenset({"api_url"}),
    "opsgenie": frozenset({"api_url"}),
    "twilio": frozenset({"api_url", "account_sid"}),  # the sid is the Basic auth user
}

# What a message says and to whom the service passes it, never where the
# secret goes: these may change while the secrets are kept. A field in
# neither table counts as a destination.
CONTENT: dict[str, frozenset[str]] = {
    "webhook": frozenset({"method"}),
    "email": frozenset({"from_address", "to"}),
    "discord": frozenset({"username"}),
    "mattermost": frozenset({"channel", "username"}),
    "telegram": frozenset({"chat_id"}),
    "ntfy": frozenset({"topic"}),
    "gotify": frozenset({"priority"}),
    "matrix": frozenset({"room_id"}),
    "twilio": frozenset({"from_number", "to_numbers"}),
}
TEMPLATES = frozenset({"title_template", "text_template"})

# Maps of extra headers: an entry whose name carries a credential
# (phoenix_contracts.sealed.is_secret_header) is a secret like the fields above.
HEADER_MAPS: dict[str, frozenset[str]] = {"webhook": frozenset({"headers"})}


def secrets_of(channel_type: str) -> Secrets:
    """Where a channel type keeps its secrets and what they are bound to."""
    secret = SECRETS.get(channel_type, frozenset())
    config = CONFIGS.get(channel_type)
    return Secrets(
        fields=secret,
        header_maps=HEADER_MAPS.get(channel_type, frozenset()),
        free=TEMPLATES
        | CONTENT.get(channel_type, frozenset())
        | (secret - DESTINATIONS.get(channel_type, frozenset())),
        defaults=defaults_of(config) if config else {},
    )


def secret_context(organization_id: str, field: str) -> str:
    """What a sealed channel secret is bound to (AES-GCM associated data): a sealed
    value copied into another organization's channel, or another field, does not open.
    ``field`` is a secret's path name (``bot_token``, ``headers.Authorization``)."""
    return f"channel:{organization_id}:{field}"


PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_.]+)\s*\}\}")
_FIELD = re.compile(r"at `\$\.([A-Za-z_]+)|field `([A-Za-z_]+)`")


def parse_config(channel_type: str, config: dict[str, Any]) -> Any:
    """The typed config, or ``msgspec.ValidationError`` naming the field."""
    return msgspec.convert(config, CONFIGS[channel_type])


def template_problem(template: str) -> str | None:
    """Why a template cannot be used, or None: only known ``{{placeholders}}``."""
    for name in PLACEHOLDER.findall(template):
        if name not in TEMPLATE_FIELDS:
            return f"unknown placeholder {{{{{name}}}}}; use one of {', '.join(TEMPLATE_FIELDS)}"
    if "{{" in PLACEHOLDER.sub("", template):
        return "a '{{' that is not a placeholder"
    return None


def config_problem(channel_type: str, config: dict[str, Any]) -> tuple[str, str] | None:
    """(field, why) for the first thing wrong with a channel's plain config, or None."""
    if channel_type not in CONFIGS:
        return "type", f"unknown channel type {channel_type!r}"
    try:
        parsed = parse_config(channel_type, config)
    except msgspec.ValidationError as exc:
        found = _FIELD.search(str(exc))
        name = (found.group(1) or found.group(2)) if found else ""
        return (f"config.{name}" if name else "config"), str(exc)
    for name in parsed.__struct_fields__:
        value = getattr(parsed, name)
        if name.endswith("url") and isinstance(value, str) and (problem := url_problem(value)):
            return f"config.{name}", problem
        if name.endswith("_template") and (problem := template_problem(value)):
            return f"config.{name}", problem
    return None
