"""The live event stream as an async iterator that reconnects by itself.

After a reconnect it resumes with `since` (the last seq it saw) and this run's `epoch`. When the
server says `resync_required` (the events are too old, or the server restarted) that event is
yielded, so the caller refetches over REST; live events follow it.

Works with websockets 10 (Debian 12) through 15 and later: the API key goes as the subprotocol
`apikey.<key>`, which every version can send (websockets 14 removed `extra_headers` from the
default client, and the new one calls it `additional_headers`).
"""
from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any, AsyncIterator, Dict, Iterable, Optional

import websockets


def connect_options(api_key: Optional[str]) -> Dict[str, Any]:
    """Keyword arguments for websockets.connect that mean the same on every supported version."""
    opts: Dict[str, Any] = {"max_size": None, "open_timeout": 10}
    if api_key:
        opts["subprotocols"] = ["apikey." + api_key]
    try:
        params = inspect.signature(websockets.connect).parameters
    except (TypeError, ValueError):
        params = {}
    if "proxy" in params:  # websockets 15 follows HTTP(S)_PROXY by default; the server is local
        opts["proxy"] = None
    return opts


def websocket_url(base_url: str) -> str:
    return base_url.rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/api/v1/cache/events"


class EventStream:
    def __init__(self, base_url: str, types: Optional[Iterable[str]] = None, project_ids: Optional[Iterable[str]] = None,
                 api_key: Optional[str] = None, reconnect_delay: float = 0.5, since: Optional[int] = None):
        self.url = websocket_url(base_url)
        self.types, self.project_ids = (list(types) if types else None), (list(project_ids) if project_ids else None)
        self.api_key, self.reconnect_delay = api_key, reconnect_delay
        self.last_seq: Optional[int] = since
        self.epoch: Optional[str] = None
        self.connects = 0
        self._ws = None
        self._closed = False

    def _subscribe_message(self) -> str:
        msg: Dict[str, Any] = {"op": "subscribe"}
        if self.types:
            msg["types"] = self.types
        if self.project_ids:
            msg["project_ids"] = self.project_ids
        if self.last_seq is not None:
            msg["since"] = self.last_seq
            if self.epoch:
                msg["epoch"] = self.epoch
        return json.dumps(msg)

    async def drop_connection(self) -> None:
        """Closes the current connection; the stream reconnects and resumes."""
        if self._ws is not None:
            await self._ws.close()

    async def close(self) -> None:
        self._closed = True
        await self.drop_connection()

    def _on_control(self, msg: dict) -> None:
        if msg.get("op") == "subscribed":
            if self.epoch and msg.get("epoch") != self.epoch:
                self.last_seq = None  # a new server run: its seq starts again
            self.epoch = msg.get("epoch")
            if self.last_seq is None:
                self.last_seq = msg.get("seq")

    async def __aiter__(self) -> AsyncIterator[dict]:
        while not self._closed:
            try:
                async with websockets.connect(self.url, **connect_options(self.api_key)) as ws:
                    self._ws = ws
                    self.connects += 1
                    await ws.send(self._subscribe_message())
                    async for raw in ws:
                        msg = json.loads(raw)
                        if "op" in msg:  # subscribed, pong, unsubscribed, error replies
                            self._on_control(msg)
                            continue
                        if msg.get("seq") is not None:
                            self.last_seq = msg["seq"]
                        yield msg
            except (OSError, asyncio.TimeoutError, websockets.ConnectionClosed, websockets.InvalidHandshake):
                pass
            finally:
                self._ws = None
            if not self._closed:
                await asyncio.sleep(self.reconnect_delay)
