"""projcache: SkillMeat's project cache as a sidecar.

`Sidecar` runs the server (the binary bundled in the wheel), `Client` calls its REST routes,
`EventStream` follows its events. `projcache.fastapi` mounts it in a FastAPI app;
`projcache.skillmeat.CacheManager` answers SkillMeat's CacheManager calls from it. REST uses
only the standard library; events use `websockets`.
"""
from .client import Client, ProjcacheError, ProjcacheUnavailable
from .events import EventStream
from .sidecar import Sidecar, SidecarError
from ._binary import BinaryNotFound, find_binary

__version__ = "0.2.0"

__all__ = ["Client", "ProjcacheError", "ProjcacheUnavailable", "EventStream", "Sidecar", "SidecarError",
           "BinaryNotFound", "find_binary", "__version__"]
