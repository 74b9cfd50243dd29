from __future__ import annotations

from phoenix_platform.settings import BaseSettings, HealthPort, LeaseTtl


class SchedulerSettings(BaseSettings, frozen=True, kw_only=True):
    health_port: HealthPort = 8083
    lease_ttl: LeaseTtl = 10.0
