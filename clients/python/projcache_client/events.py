"""The live event stream (contract section 7) as an async iterator that reconnects by itself.

After a reconnect it resumes with `since` (the last seq it saw) and this run's `epoch`. When the
server says `resync_required` (the events are too old, or the server restarted) that event is
yielded, so the caller refetches over REST; live events follow it.
"""
from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator, Iterable, Optional

import websockets


class EventStream:
    def __init__(self, base_url: str, types: Optional[Iterable[str]] = None, project_ids: Optional[Iterable[str]] = None,
                 api_key: Optional[str] = None, reconnect_delay: float = 0.5, since: Optional[int] = None):
        self.url = base_url.rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/api/v1/cache/events"
        self.types, self.project_ids = (list(types) if types else None), (list(project_ids) if project_ids else None)
        self.api_key, self.reconnect_delay = api_key, reconnect_delay
        self.last_seq: Optional[int] = since
        self.epoch: Optional[str] = None
        self.connects = 0
        self._ws = None
        self._closed = False

    def _subscribe_message(self) -> str:
        msg = {"op": "subscribe"}
        if self.types:
            msg["types"] = self.types
        if self.project_ids:
            msg["project_ids"] = self.project_ids
        if self.last_seq is not None:
            msg["since"] = self.last_seq
            if self.epoch:
                msg["epoch"] = self.epoch
        return json.dumps(msg)

    async def close(self) -> None:
        self._closed = True
        if self._ws is not None:
            await self._ws.close()

    async def __aiter__(self) -> AsyncIterator[dict]:
        while not self._closed:
            try:
                headers = {"X-API-Key": self.api_key} if self.api_key else None
                async with websockets.connect(self.url, extra_headers=headers, max_size=None) as ws:
                    self._ws = ws
                    self.connects += 1
                    await ws.send(self._subscribe_message())
                    async for raw in ws:
                        msg = json.loads(raw)
                        if msg.get("op") == "subscribed":
                            if self.epoch and msg.get("epoch") != self.epoch:
                                self.last_seq = None  # a new server run: its seq starts again
                            self.epoch = msg.get("epoch")
                            if self.last_seq is None:
                                self.last_seq = msg.get("seq")
                            continue
                        if "op" in msg:
                            continue  # pong, unsubscribed, error replies
                        if msg.get("seq") is not None:
                            self.last_seq = msg["seq"]
                        yield msg
            except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake):
                pass
            finally:
                self._ws = None
            if not self._closed:
                await asyncio.sleep(self.reconnect_delay)
