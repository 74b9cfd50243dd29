# Phoenix developer recipes: `uv run just <recipe>`

default:
    @just --list

# Whole stack on this machine (embedded NATS, PostgreSQL and Valkey unless URLs are set)
dev:
    uv run phoenix dev

# All tests: unit, integration, end to end
test *args:
    uv run pytest {{args}}

# Fast tests only (no servers needed)
test-unit:
    uv run pytest tests/unit tests/handlers tests/test_architecture.py tests/test_contract_schema.py

lint:
    uv run ruff check .
    uv run ruff format --check .

fmt:
    uv run ruff check --fix .
    uv run ruff format .

typecheck:
    uv run mypy -p phoenix_contracts -p phoenix_platform -p phoenix_devstack -p phoenix_cli -p phoenix_gateway -p phoenix_auth -p phoenix_scheduler -p phoenix_executor -p phoenix_evaluator -p phoenix_notifier -p phoenix_bench

# Regenerate contracts/schema after changing a contract
schema:
    uv run python -m phoenix_contracts.schema contracts/schema

# The configuration table for the README
config-table:
    uv run phoenix config

# Exactly what CI runs
ci:
    bash .ci/run

# The whole stack under N monitors (default 10,000 at 30 s), measured; e.g. just bench --monitors 2000
bench *args:
    uv run phoenix bench {{args}}

# Engine checks/s vs. the ceiling (nginx/openssl/wrk when installed); e.g. just bench-executor --seconds 5
bench-executor *args:
    uv run python -m phoenix_bench.executor {{args}}

# The executor process alone: CPU per job, queue to stored result; e.g. just bench-executor-service --scheme https
bench-executor-service *args:
    uv run python -m phoenix_bench.executor_service {{args}}

# History read path: 10,000 monitors x 90 days of rollups, p50/p95 per API query
bench-history *args:
    uv run python -m phoenix_bench.history {{args}}

# Offline checks of the images, compose file, Kubernetes overlays and dashboard (no engine needed)
test-deploy:
    uv run pytest tests/deploy

# Build and start the compose stack (needs a Docker engine)
up:
    docker compose up -d --build
