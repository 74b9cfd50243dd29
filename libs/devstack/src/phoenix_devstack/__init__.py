"""Real NATS, PostgreSQL and Valkey servers from pip wheels, on free loopback ports.

Used by `phoenix dev` and by pytest fixtures::

    with EmbeddedStack(Path(".phoenix")) as endpoints:
        ...  # endpoints.nats_url, endpoints.database_url, endpoints.redis_url
"""

import logging

from .errors import DataDirLockedError, DevStackError, ServiceStartError
from .ports import free_port
from .stack import EmbeddedStack, Endpoints

# A library must not print: without logging configured by the application, stay silent.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DataDirLockedError",
    "DevStackError",
    "EmbeddedStack",
    "Endpoints",
    "ServiceStartError",
    "free_port",
]
