# syntax=docker/dockerfile:1
#
# One image per service, all from this file: `docker build --target executor -t phoenix-executor .`
# Targets: gateway, auth, scheduler, executor, evaluator, notifier.
#
# Each image holds one virtual environment with exactly that service, phoenix-platform,
# phoenix-contracts and their locked dependencies (uv.lock, --frozen): the executor image
# has no web framework, the gateway no SMTP client, none the phoenix CLI or dev servers.
# The process is `python -m phoenix_<service>`, as user 10001, with exec-form commands
# only (no shell involved), and its health check is a standard-library probe of /healthz.
#
# Runtime base: python:3.11-slim on Debian bookworm. A uv venv links to the interpreter
# it was made with, so builder and runtime share one base and the same /usr/local/bin/python3.11.
# Distroless' python3 image was weighed and left: it ships Debian's own 3.11 at another
# path (the venv would have to be made against it) and lags python.org's patch releases.
# Pin by digest in production (`python:3.11-slim-bookworm@sha256:...`).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# ---------------------------------------------------------------------------
# The workspace's metadata only: uv needs every member's pyproject.toml to read the
# workspace, but no sources, to install the third-party dependencies of one member.
# These layers change only when a dependency does.
FROM ${PYTHON_IMAGE} AS workspace
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY libs/platform/pyproject.toml libs/platform/
COPY libs/cli/pyproject.toml libs/cli/
COPY libs/devstack/pyproject.toml libs/devstack/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/auth/pyproject.toml services/auth/
COPY services/scheduler/pyproject.toml services/scheduler/
COPY services/executor/pyproject.toml services/executor/
COPY services/evaluator/pyproject.toml services/evaluator/
COPY services/notifier/pyproject.toml services/notifier/

# ---------------------------------------------------------------------------
# One build stage per service: dependencies first (cached), then its own code.
# --no-editable installs the workspace members as wheels, so the venv stands alone.

FROM workspace AS build-gateway
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace --package phoenix-gateway
COPY contracts/src contracts/src
COPY libs/platform/src libs/platform/src
COPY services/gateway/src services/gateway/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package phoenix-gateway

FROM workspace AS build-auth
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace --package phoenix-auth
COPY contracts/src contracts/src
COPY libs/platform/src libs/platform/src
COPY services/auth/src services/auth/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package phoenix-auth

FROM workspace AS build-scheduler
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace --package phoenix-scheduler
COPY contracts/src contracts/src
COPY libs/platform/src libs/platform/src
COPY services/scheduler/src services/scheduler/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package phoenix-scheduler

FROM workspace AS build-executor
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace --package phoenix-executor
COPY contracts/src contracts/src
COPY libs/platform/src libs/platform/src
COPY services/executor/src services/executor/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package phoenix-executor

FROM workspace AS build-evaluator
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace --package phoenix-evaluator
COPY contracts/src contracts/src
COPY libs/platform/src libs/platform/src
COPY services/evaluator/src services/evaluator/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package phoenix-evaluator

FROM workspace AS build-notifier
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace --package phoenix-notifier
COPY contracts/src contracts/src
COPY libs/platform/src libs/platform/src
COPY services/notifier/src services/notifier/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package phoenix-notifier

# ---------------------------------------------------------------------------
# What every service image shares: the base, the user, the environment, the labels.
FROM ${PYTHON_IMAGE} AS runtime
ARG PYTHON_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.vendor="Phoenix" \
      org.opencontainers.image.description="Phoenix uptime monitoring: one service per image" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"
RUN groupadd --system --gid 10001 phoenix \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin phoenix
# Bytecode was compiled at build time; the code is root-owned and read-only to the service.
# Health ports (/healthz, /readyz, /metrics) default to loopback; in a container the
# probes and Prometheus come from outside it. Keep that port off public networks.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PHOENIX_LOG_FORMAT=json \
    PHOENIX_HEALTH_HOST=0.0.0.0
WORKDIR /app
USER 10001:10001
# Every service drains and stops on SIGTERM (the runtime owns the signal).
STOPSIGNAL SIGTERM

# ---------------------------------------------------------------------------
# The six images. The health check follows PHOENIX_HEALTH_PORT (PHOENIX_GATEWAY_PORT)
# when it is set and otherwise probes the service's default port.

FROM runtime AS gateway
COPY --from=build-gateway /app/.venv /app/.venv
LABEL org.opencontainers.image.title="phoenix-gateway"
ENV PHOENIX_GATEWAY_HOST=0.0.0.0
# 8087: /metrics (PHOENIX_HEALTH_PORT), never on the API port
EXPOSE 8080 8087
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/app/.venv/bin/python", "-m", "phoenix_platform.probe", "PHOENIX_GATEWAY_PORT", "8080"]
ENTRYPOINT ["/app/.venv/bin/python", "-m", "phoenix_gateway"]

FROM runtime AS auth
COPY --from=build-auth /app/.venv /app/.venv
LABEL org.opencontainers.image.title="phoenix-auth"
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/app/.venv/bin/python", "-m", "phoenix_platform.probe", "PHOENIX_HEALTH_PORT", "8082"]
ENTRYPOINT ["/app/.venv/bin/python", "-m", "phoenix_auth"]

FROM runtime AS scheduler
COPY --from=build-scheduler /app/.venv /app/.venv
LABEL org.opencontainers.image.title="phoenix-scheduler"
EXPOSE 8083
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/app/.venv/bin/python", "-m", "phoenix_platform.probe", "PHOENIX_HEALTH_PORT", "8083"]
ENTRYPOINT ["/app/.venv/bin/python", "-m", "phoenix_scheduler"]

FROM runtime AS executor
COPY --from=build-executor /app/.venv /app/.venv
LABEL org.opencontainers.image.title="phoenix-executor"
EXPOSE 8084
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/app/.venv/bin/python", "-m", "phoenix_platform.probe", "PHOENIX_HEALTH_PORT", "8084"]
ENTRYPOINT ["/app/.venv/bin/python", "-m", "phoenix_executor"]

FROM runtime AS evaluator
COPY --from=build-evaluator /app/.venv /app/.venv
LABEL org.opencontainers.image.title="phoenix-evaluator"
EXPOSE 8085
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/app/.venv/bin/python", "-m", "phoenix_platform.probe", "PHOENIX_HEALTH_PORT", "8085"]
ENTRYPOINT ["/app/.venv/bin/python", "-m", "phoenix_evaluator"]

FROM runtime AS notifier
COPY --from=build-notifier /app/.venv /app/.venv
LABEL org.opencontainers.image.title="phoenix-notifier"
EXPOSE 8086
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/app/.venv/bin/python", "-m", "phoenix_platform.probe", "PHOENIX_HEALTH_PORT", "8086"]
ENTRYPOINT ["/app/.venv/bin/python", "-m", "phoenix_notifier"]
