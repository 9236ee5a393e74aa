"""Nothing a client is told is left uncommitted: the store's batch is committed before each answer starts."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paycert.sandbox.store import Store


class CommitBeforeAnswer:
    """ASGI middleware: commit the store's open batch when an HTTP answer is about to be sent.

    At most one commit per answer, covering whatever every request in flight wrote since the last one (the
    store batches; see store.py), instead of one per row. WebSocket writes are committed by the worker's tick.
    """

    def __init__(self, app: ASGIApp, store: Store) -> None:
        self._app = app
        self._store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_committed(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._store.commit()
            await send(message)

        await self._app(scope, receive, send_committed)
