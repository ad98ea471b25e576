"""Starting and stopping the projcache binary as a child process."""
from __future__ import annotations

import collections
import json
import logging
import os
import selectors
import signal
import subprocess
import threading
import time
from typing import Deque, Iterable, Mapping, Optional, Sequence

from ._binary import find_binary
from .client import Client, ProjcacheError
from .events import EventStream

log = logging.getLogger("projcache.server")


class SidecarError(RuntimeError):
    """The server did not start, or did not become ready in time; the message carries its last
    stderr lines."""


class Sidecar:
    """Runs `projcache serve` on an ephemeral port, learns the port from the ready line and, by
    default, returns once `/readyz` says the first scan is done.

        with Sidecar(home="~/.skillmeat") as sc:
            sc.client().status()
    """

    def __init__(self, binary: Optional[str] = None, args: Sequence[str] = (), env: Optional[Mapping[str, str]] = None,
                 ready_timeout: float = 60.0, port: int = 0, *, home: Optional[str] = None,
                 search_roots: Optional[Iterable[str]] = None, api_key: Optional[str] = None,
                 host: str = "127.0.0.1", wait_ready: bool = True, stderr_lines: int = 50):
        self.binary = binary
        self.args, self.ready_timeout, self.requested_port = list(args), ready_timeout, port
        self.api_key, self.host, self.wait_ready = api_key, host, wait_ready
        self.env = dict(os.environ, **(env or {}))
        if home is not None:
            self.env["SKILLMEAT_HOME"] = os.path.expanduser(str(home))
        if search_roots is not None:
            self.env["SKILLMEAT_CACHE_SEARCH_ROOTS"] = ":".join(os.path.expanduser(str(r)) for r in search_roots)
        if api_key is not None:
            self.env.update(SKILLMEAT_API_KEY_ENABLED="true", SKILLMEAT_API_KEY=api_key)
        self.process: Optional[subprocess.Popen] = None
        self.ready: dict = {}
        self._stderr: Deque[str] = collections.deque(maxlen=stderr_lines)
        self._drain: Optional[threading.Thread] = None

    # -- what a caller reads
    @property
    def port(self) -> int:
        return int(self.ready["port"])

    @property
    def url(self) -> str:
        return self.ready.get("url") or f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process else None

    def last_stderr(self) -> str:
        return "\n".join(self._stderr)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self, timeout: float = 60.0) -> Client:
        return Client(self.url, api_key=self.api_key, timeout=timeout)

    def events(self, **kw) -> EventStream:
        return EventStream(self.url, api_key=self.api_key, **kw)

    # -- life cycle
    def start(self) -> "Sidecar":
        binary = find_binary(self.binary)
        cmd = [binary, "serve", "--host", self.host, "--port", str(self.requested_port), "--exit-with-parent", "true", *self.args]
        self._stderr.clear()
        self.process = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, errors="replace")
        # A server that logs a lot would block on a full pipe: read it all the time, keep the tail.
        self._drain = threading.Thread(target=self._drain_stderr, args=(self.process.stderr,), daemon=True)
        self._drain.start()
        deadline = time.monotonic() + self.ready_timeout
        try:
            self.ready = self._read_ready_line(deadline)
            if self.wait_ready:
                self._wait_readyz(deadline)
        except SidecarError:
            self.stop()
            raise
        return self

    def _drain_stderr(self, stream) -> None:
        for line in stream:
            line = line.rstrip("\n")
            self._stderr.append(line)
            log.debug("%s", line)

    def _fail(self, what: str) -> SidecarError:
        if self._drain is not None and self.process is not None and self.process.poll() is not None:
            self._drain.join(1.0)  # the process is gone: its last words are in the pipe
        tail = self.last_stderr()
        return SidecarError(what + (f"; its last stderr lines:\n{tail}" if tail else "; it wrote nothing on stderr"))

    def _read_ready_line(self, deadline: float) -> dict:
        assert self.process and self.process.stdout
        sel = selectors.DefaultSelector()
        sel.register(self.process.stdout, selectors.EVENT_READ)
        try:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise self._fail(f"projcache did not print its ready line within {self.ready_timeout} s")
            line = self.process.stdout.readline()
        finally:
            sel.close()
        if not line:
            code = self.process.wait()
            raise self._fail(f"projcache exited with {code} before it was ready")
        try:
            ready = json.loads(line)
        except ValueError:
            ready = {}
        if ready.get("event") != "ready":
            raise self._fail(f"projcache printed {line.strip()!r} instead of its ready line")
        return ready

    def _wait_readyz(self, deadline: float) -> None:
        c = Client(self.url, api_key=self.api_key, timeout=5.0)
        delay = 0.005
        while True:
            if self.process is None or self.process.poll() is not None:
                raise self._fail(f"projcache exited with {self.process.returncode if self.process else None} during its first scan")
            try:
                if c.ready():
                    return
            except ProjcacheError:
                pass
            if time.monotonic() > deadline:
                raise self._fail(f"projcache did not finish its first scan within {self.ready_timeout} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def stop(self, timeout: float = 5.0) -> Optional[int]:
        """SIGTERM, then SIGKILL if it has not exited within timeout; returns the exit code."""
        p = self.process
        if p is None:
            return None
        try:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            return p.returncode
        finally:
            if self._drain is not None:
                self._drain.join(2.0)
            for stream in (p.stdout, p.stderr):
                if stream:
                    stream.close()

    def __enter__(self) -> "Sidecar":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
