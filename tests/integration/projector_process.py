"""A gateway read-model projector alone in a process, for tests that kill it.

python -m tests.integration.projector_process <nats url> <namespace> <database url>
"""

from __future__ import annotations

import asyncio
import sys

import nats
from phoenix_contracts.subjects import Subjects
from phoenix_gateway.readmodel.projection import ReadModelProjection
from phoenix_platform.database import create_engine
from phoenix_platform.projection import Projector


async def main(nats_url: str, namespace: str, database_url: str) -> None:
    nc = await nats.connect(nats_url)
    engine = create_engine(database_url, "gateway")
    projector = Projector(nc.jetstream(), Subjects(namespace), engine, ReadModelProjection())
    print("started", flush=True)
    await projector.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
