# One image for every service (minimal; per-service images come with the deployment issue).
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /bin/uv
WORKDIR /app
COPY . .
RUN uv sync --frozen --no-dev --no-editable --package phoenix-cli \
    && uv pip install --no-deps --python .venv ./contracts ./libs/platform \
       ./services/gateway ./services/auth ./services/scheduler ./services/executor \
       ./services/evaluator ./services/notifier

FROM python:3.11-slim
RUN useradd --system --uid 10001 phoenix
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PHOENIX_LOG_FORMAT=json
USER phoenix
ENTRYPOINT ["phoenix", "run"]
