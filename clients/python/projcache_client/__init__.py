"""projcache client: run the server as a sidecar (Sidecar), call its REST routes (Client),
follow its events (EventStream). REST uses only the standard library; events use `websockets`."""
from .client import Client, ProjcacheError
from .events import EventStream
from .sidecar import Sidecar, SidecarError

__all__ = ["Client", "ProjcacheError", "EventStream", "Sidecar", "SidecarError"]
