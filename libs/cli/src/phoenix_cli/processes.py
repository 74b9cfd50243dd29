"""One supervised service process of ``phoenix dev``."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys

import httpx

STOP_TIMEOUT = 20.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If `phoenix dev` is killed outright, its services must not live on.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class ServiceProcess:
    def __init__(self, name: str, env: dict[str, str], probe_url: str) -> None:
        self.name = name
        self._env = env
        self._probe_url = probe_url
        self._process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self._stopping = False
        self.last_probe = ""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "phoenix_cli",
            "run",
            self.name,
            env=self._env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop services in order
            preexec_fn=_die_with_parent,
        )
        self._pump = asyncio.create_task(self._prefix_output())

    async def probe(self, client: httpx.AsyncClient) -> bool:
        try:
            response = await client.get(self._probe_url)
        except httpx.HTTPError as exc:
            self.last_probe = f"({type(exc).__name__})"
            return False
        # What /readyz said, so a service that never gets ready shows which check fails.
        self.last_probe = response.text[:200]
        return response.status_code == 200

    async def keep_running(self, stop: asyncio.Event) -> None:
        """Restart the service if it dies on its own, backing off up to 30 s."""
        delay = 1.0
        while not stop.is_set():
            assert self._process is not None
            code = await self._process.wait()
            if self._stopping or stop.is_set():
                return
            print(
                f"phoenix: {self.name} exited with {code}; restarting in {delay:.0f} s",
                file=sys.stderr,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
            await self.start()

    async def stop(self) -> None:
        self._stopping = True
        process = self._process
        if process is None or process.returncode is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        if self._pump is not None:
            await asyncio.wait_for(self._pump, 2.0)

    async def _prefix_output(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        prefix = f"{self.name:>9} | ".encode()
        while line := await self._process.stdout.readline():
            sys.stderr.buffer.write(prefix + line)
            sys.stderr.buffer.flush()
