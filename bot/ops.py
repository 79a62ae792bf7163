"""GET /healthz and GET /metrics: what a load balancer and Prometheus ask a running worker.

They are served by an aiohttp app of their own in polling mode (`ops.listen`), and by the webhook
server in webhook mode (bot/webhook.py adds the same routes). Storage is reached only through the
small async callables of `Ops`, built from the repository's public contract by `repository_ops`,
so nothing here knows tables or SQL.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.config import ConfigError
from bot.metrics import CONTENT_TYPE, WAITING_CAP, Metrics, ScrapeSources
from bot.runtime import Runtime
from core.clock import Clock
from jobs.retention import JOB as RETENTION
from storage.base import Repository

log = logging.getLogger("amigo.ops")

Health = Callable[[], Awaitable[dict[str, Any]]]
BACKLOG_HORIZON = timedelta(days=36_500)  # claims end long before this: every accepted message


async def _no_database() -> dict[str, Any]:
    return {"status": "fail", "database": False, "last_retention_run": None}


@dataclass
class Ops:
    """What the ops endpoints read. Before the services are open, health says the database
    does not answer (503), so a load balancer sends nothing to a worker still starting."""

    metrics: Metrics
    health: Health = _no_database
    sources: ScrapeSources = field(default_factory=ScrapeSources)


def repository_ops(repo: Repository, clock: Clock) -> tuple[Health, ScrapeSources]:
    """Health and the scrape-time gauges from the repository's contract (no SQL here)."""

    async def health() -> dict[str, Any]:
        try:
            run = await repo.last_finished_run(RETENTION)  # also proves the database answers
        except Exception as exc:
            log.warning("health.database_failed", extra={"error": type(exc).__name__})
            return await _no_database()
        finished = run.finished_at if run is not None else None
        return {
            "status": "ok",
            "database": True,
            "last_retention_run": finished.isoformat() if isinstance(finished, datetime) else None,
        }

    async def waiting() -> int:
        backlog = await repo.unanswered(clock.now() + BACKLOG_HORIZON, limit=WAITING_CAP)
        return len(backlog)

    async def purged() -> Mapping[str, int]:
        run = await repo.last_finished_run(RETENTION)
        return run.removed if run is not None else {}

    return health, ScrapeSources(waiting=waiting, purged=purged)


def add_ops_routes(app: web.Application, ops: Ops) -> None:
    async def healthz(request: web.Request) -> web.Response:
        try:
            report = await ops.health()
        except Exception as exc:
            log.warning("health.failed", extra={"error": type(exc).__name__})
            report = await _no_database()
        status = 200 if report.get("status") == "ok" else 503
        return web.json_response(report, status=status)

    async def metrics(request: web.Request) -> web.Response:
        await ops.metrics.refresh(ops.sources)
        return web.Response(body=ops.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)


def ops_app(ops: Ops) -> web.Application:
    """Only /healthz and /metrics (polling mode)."""
    app = web.Application()
    add_ops_routes(app, ops)
    return app


def parse_listen(value: str, key: str) -> tuple[str, int]:
    """ "host:port" (IPv6 as "[::1]:port"), or a one-line ConfigError naming `key`."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"config error: {key}: expected host:port, got {value!r}")
    return host, int(port)


class Server:
    """One aiohttp app on one address; `port` is the bound one (useful with port 0 in tests)."""

    def __init__(self, app: web.Application, listen: str, key: str) -> None:
        self.app = app
        self.key = key
        self.host, self.port = parse_listen(listen, key)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:  # one line for the operator, never a traceback
            await runner.cleanup()
            raise ConfigError(
                f"config error: {self.key}: cannot listen on {self.host}:{self.port} "
                f"({exc.strerror or type(exc).__name__})"
            ) from None
        except BaseException:
            await runner.cleanup()
            raise
        self.port = int(runner.addresses[0][1])
        self._runner = runner
        log.info("ops.listening", extra={"port": self.port})

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def ops_for(runtime: Runtime) -> Ops:
    """The ops endpoints of a bot; health and gauges once its services are open."""
    ops = Ops(runtime.metrics)
    if runtime.dispatcher is not None:
        deps = runtime.dispatcher.deps
        ops.health, ops.sources = repository_ops(deps.repo, deps.clock)
    return ops


@asynccontextmanager
async def serving_ops(runtime: Runtime, listen: str) -> AsyncIterator[None]:
    """Serve /healthz and /metrics on `listen` (polling mode) while the block runs; nothing
    when `listen` is empty."""
    if not listen:
        yield
        return
    server = Server(ops_app(ops_for(runtime)), listen, "ops.listen")
    await server.start()
    runtime.ops_url = server.url
    try:
        yield
    finally:
        await server.stop()


def run_until_signal(context: AbstractAsyncContextManager[object]) -> None:
    """Enter `context` in a new event loop and stay until SIGTERM or SIGINT (run_webhook)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with context:
            await stop.wait()
            log.info("bot.stopping")

    asyncio.run(main())
