"""The fake Bot API server itself: lifecycle, HTTP dispatch, and what tests inspect.

``FakeTelegram`` combines the mixins of its sibling modules (simulated users, Bot API
methods, polling and failure injection, webhooks, Stars payments) over the shared state in
:mod:`.state`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from .methods import _BUILTINS, BotMethodsMixin
from .params import Handler, _normalize_params
from .payments import _PAYMENT_METHODS, PaymentsMixin
from .polling import PollingMixin
from .records import (
    ApiError,
    Call,
    SentDraft,
    SentMessage,
    UploadedFile,
    WebhookDelivery,
    _wait_event,
)
from .users import SimulatedUsersMixin
from .webhook import _WEBHOOK_METHODS, WebhookMixin

_T = TypeVar("_T")


class FakeTelegram(PaymentsMixin, SimulatedUsersMixin, BotMethodsMixin, PollingMixin, WebhookMixin):
    """A fake Bot API server on 127.0.0.1 that real PTB / aiogram clients can talk to.

    Use ``fake.base_url`` / ``fake.base_file_url`` with the client, simulate users with
    :meth:`send_text` & co. (Stars payments: :meth:`pay`, :meth:`renew`), and assert on
    ``fake.calls`` or with the ``wait_for_*`` helpers.
    Stopping the server (``await fake.stop()``) makes the port refuse connections; ``start()``
    again re-binds the same port, to test outages and recovery.
    """

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind 127.0.0.1 (a free port the first time, the same port on restart)."""
        if self._runner is not None:
            return
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = int(runner.addresses[0][1])
        self._runner = runner
        self._restart_delivery()  # a webhook set before a restart is served again

    async def stop(self) -> None:
        """Release pending long polls and close the port (connections are then refused)."""
        if self._runner is None:
            return
        self._closing.set()
        self._update_signal.notify()
        await self._stop_delivery()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def set_handler(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler(params)`` (raise ApiError for errors).

        Lets a test support a method this fake does not implement, or override one.
        """
        self._handlers[method.lower()] = handler

    # ---------------------------------------------------------------- inspection

    def mark(self) -> int:
        """Current number of calls; pass as ``after=`` to wait only for newer calls."""
        return len(self.calls)

    def messages_to(self, chat_id: int, *, include_deleted: bool = True) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id``, oldest first."""
        return [
            m for m in self.messages if m.chat_id == chat_id and (include_deleted or not m.deleted)
        ]

    def last_message(self, chat_id: int) -> SentMessage:
        """The latest message the bot sent to ``chat_id``."""
        sent = self.messages_to(chat_id)
        if not sent:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return sent[-1]

    def drafts_to(self, chat_id: int) -> list[SentDraft]:
        """Drafts the bot streamed to ``chat_id``, oldest first."""
        return [d for d in self.drafts if d.chat_id == chat_id]

    def calls_of(self, method: str) -> list[Call]:
        """All calls of ``method`` so far."""
        return [c for c in self.calls if c.method == method]

    @property
    def commands(self) -> list[dict[str, Any]]:
        """Commands set with setMyCommands for the default scope and no language."""
        return self.commands_by_scope.get(("default", ""), [])

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 10.0,
        after: int = 0,
    ) -> Call:
        """The first call of ``method`` at index >= ``after`` matching ``predicate``."""

        def find() -> Call | None:
            for call in self.calls[after:]:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            return None

        return await self._wait(find, f"a {method} call", timeout)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        timeout: float = 10.0,
        after: int = 0,
    ) -> SentMessage:
        """The first message (sendMessage/sendDocument) to ``chat_id`` sent by a call at
        index >= ``after`` that matches ``predicate`` (re-checked after edits).
        """

        def find() -> SentMessage | None:
            for call in self.calls[after:]:
                sent = call.message
                if (
                    call.method in ("sendMessage", "sendDocument")
                    and sent is not None
                    and sent.chat_id == chat_id
                    and (predicate is None or predicate(sent))
                ):
                    return sent
            return None

        return await self._wait(find, f"a message to chat {chat_id}", timeout)

    async def wait_for_delivery(
        self, update_id: int, *, status: int = 200, timeout: float = 10.0, after: int = 0
    ) -> WebhookDelivery:
        """The first webhook delivery of ``update_id`` (at index >= ``after`` of
        ``webhook_deliveries``) answered ``status`` (0: refused or dropped)."""

        def find() -> WebhookDelivery | None:
            for delivery in self.webhook_deliveries[after:]:
                if delivery.update_id == update_id and delivery.status == status:
                    return delivery
            return None

        return await self._wait(find, f"update {update_id} answered {status}", timeout)

    async def _wait(self, find: Callable[[], _T | None], what: str, seconds: float) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            event = self._call_signal.current()
            found = find()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(c.summary() for c in self.calls[-8:]) or "none"
                raise AssertionError(
                    f"timed out after {seconds}s waiting for {what}; last calls: {recent}"
                )
            await _wait_event(event, remaining)

    # ---------------------------------------------------------------- HTTP plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method_raw = request.match_info["method"]
        try:
            raw, files = await self._read_params(request)
        except ValueError:
            return self._error(400, "Bad Request: can't parse request body")
        params = _normalize_params(raw)
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.get(value[len("attach://") :])
                if attached is not None:
                    params[key] = attached
        for name, upload in files.items():
            params.setdefault(name, upload)
        method = self._canonical_name(method_raw)
        call = Call(method=method, params=params, at=time.monotonic(), files=files)

        if request.match_info["token"] != self.token:
            return self._finish(call, self._error(401, "Unauthorized"))
        rule = self._take_failure(method, params)
        if rule is not None:
            if rule.drop_connection:
                call.status, call.error = 0, "connection dropped"
                self._record(call)
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)
            return self._finish(call, self._rule_error(rule))

        custom = self._handlers.get(method.lower())
        try:
            if custom is not None:
                result = custom(params)
            elif method == "getUpdates":
                self._record(call)  # at arrival, so tests can see the bot is polling
                try:
                    result = await self._get_updates(params)
                except ApiError as err:
                    call.status, call.error = err.status, err.description
                    return self._error(err.status, err.description, err.parameters)
                except asyncio.CancelledError:
                    call.status, call.error = 499, "client went away"
                    raise
                call.result = result
                return web.json_response({"ok": True, "result": result})
            else:
                builtin = _METHODS.get(method)
                if builtin is None:
                    return self._finish(call, self._error(404, "Not Found"))
                result = builtin(self, call)
        except ApiError as err:
            return self._finish(call, self._error(err.status, err.description, err.parameters))
        call.result = result
        self._record(call)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        for file_id, file_path in self._file_paths.items():
            if file_path == path:
                return web.Response(body=self.files[file_id])
        return web.Response(status=404, text="Not Found")

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method != "POST" or not request.can_read_body:
            return raw, files
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            raw.update(body)
            return raw, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(
                    field_name=key,
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                )
            elif isinstance(value, bytes):
                raw[key] = value.decode("utf-8", "replace")
            else:
                raw[key] = value
        return raw, files

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._call_signal.notify()

    def _finish(self, call: Call, response: web.Response) -> web.Response:
        call.status = response.status
        if response.text:
            call.error = json.loads(response.text).get("description")
        self._record(call)
        return response

    @staticmethod
    def _canonical_name(method: str) -> str:
        lowered = method.lower()
        for name in _METHODS:
            if name.lower() == lowered:
                return name
        return method


_METHODS: dict[str, Callable[[FakeTelegram, Call], Any]] = {
    **_BUILTINS,
    **_WEBHOOK_METHODS,
    **_PAYMENT_METHODS,
}
