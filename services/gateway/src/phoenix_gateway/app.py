"""The Litestar application: controllers, dependencies, error format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from nats.aio.client import Client
from phoenix_contracts.identity import Principal
from phoenix_contracts.subjects import Subjects
from phoenix_platform.runtime import Runtime

from phoenix_gateway.api.account import AccountController
from phoenix_gateway.api.auth import AuthController
from phoenix_gateway.api.bodies import body_limit
from phoenix_gateway.api.channels import AlertRuleController, ChannelController
from phoenix_gateway.api.clients import TrustedProxies
from phoenix_gateway.api.commands import CommandBus
from phoenix_gateway.api.correlation import correlation_middleware
from phoenix_gateway.api.deliveries import DeliveryController
from phoenix_gateway.api.health import healthz, readyz
from phoenix_gateway.api.history import HistoryController
from phoenix_gateway.api.incidents import IncidentController
from phoenix_gateway.api.keys import ApiKeyController
from phoenix_gateway.api.live import LiveFeed, stream
from phoenix_gateway.api.maintenance import MaintenanceController
from phoenix_gateway.api.metering import http_metrics
from phoenix_gateway.api.monitors import MonitorController
from phoenix_gateway.api.organizations import InvitationController, OrganizationController
from phoenix_gateway.api.principal import PrincipalResolver
from phoenix_gateway.api.problems import problem_handler
from phoenix_gateway.api.public_status import PUBLIC_ROUTES, PublicPages
from phoenix_gateway.api.push import push
from phoenix_gateway.api.reports import MonitorReportController, ReportController
from phoenix_gateway.api.statuspages import StatusPageController
from phoenix_gateway.api.tags import MonitorTagController, TagController
from phoenix_gateway.api.text import CheckedRequest, refuse_unstorable_parameters
from phoenix_gateway.api.twofactor import TwoFactorController
from phoenix_gateway.readmodel.deliveries import DeliveryReads
from phoenix_gateway.readmodel.history import History
from phoenix_gateway.readmodel.queries import ReadModel
from phoenix_gateway.readmodel.rollups import Rollups


@dataclass(frozen=True)
class AppDeps:
    runtime: Runtime
    nats: Client
    subjects: Subjects
    commands: CommandBus
    read_model: ReadModel
    cookie_secure: bool
    max_body_bytes: int
    resolver: PrincipalResolver
    trusted_proxies: TrustedProxies
    live: LiveFeed
    idempotency: Any  # the Idempotency-Key middleware, bound to Redis
    history: History
    rollups: Rollups
    deliveries: DeliveryReads
    public_pages: PublicPages


def _constant(value: Any) -> Provide:
    def provide() -> Any:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def create_app(deps: AppDeps) -> Litestar:
    resolver = deps.resolver

    async def authenticate(connection: ASGIConnection[Any, Any, Any, Any], handler: Any) -> None:
        # As a guard, authentication runs before the body is read and validated:
        # a caller without the right credential gets 401/403, never a 400 that
        # describes what the endpoint would have accepted.
        if "principal" in handler.parsed_fn_signature.parameters:
            assert isinstance(connection, Request)
            connection.state["principal"] = await resolver.authorize(connection)

    async def provide_principal(request: Request) -> Principal:  # type: ignore[type-arg]
        principal = request.state.get("principal")
        return principal if principal is not None else await resolver.authorize(request)

    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            AuthController,
            AccountController,
            TwoFactorController,
            ApiKeyController,
            OrganizationController,
            InvitationController,
            MonitorController,
            ChannelController,
            AlertRuleController,
            push,
            MaintenanceController,
            IncidentController,
            TagController,
            MonitorTagController,
            HistoryController,
            MonitorReportController,
            ReportController,
            DeliveryController,
            StatusPageController,
            *PUBLIC_ROUTES,
            stream,
        ],
        dependencies={
            "principal": Provide(provide_principal),
            "runtime": _constant(deps.runtime),
            "nats": _constant(deps.nats),
            "subjects": _constant(deps.subjects),
            "commands": _constant(deps.commands),
            "read_model": _constant(deps.read_model),
            "cookie_secure": _constant(deps.cookie_secure),
            "trusted_proxies": _constant(deps.trusted_proxies),
            "live": _constant(deps.live),
            "history": _constant(deps.history),
            "rollups": _constant(deps.rollups),
            "deliveries": _constant(deps.deliveries),
            "public_pages": _constant(deps.public_pages),
        },
        # Unstorable text is refused first: it says nothing about the endpoint.
        guards=[refuse_unstorable_parameters, authenticate],
        request_class=CheckedRequest,
        middleware=[correlation_middleware, deps.idempotency],
        exception_handlers={Exception: problem_handler},
        request_max_body_size=deps.max_body_bytes,
        openapi_config=OpenAPIConfig(title="Phoenix API", version="0.1.0", path="/schema"),
        debug=False,
    )
    # Around the router itself, where Litestar puts its own CORS and OpenTelemetry
    # wrappers: the route middleware above never sees a request no route matched.
    # The body limit sits inside the metrics (a 413 is counted) and before anything
    # that reads a body; Litestar's request_max_body_size above is the same setting.
    app.asgi_handler = http_metrics(body_limit(app.asgi_handler, deps.max_body_bytes))
    return app
