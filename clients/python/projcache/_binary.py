"""Where the projcache binary is: an explicit path, $PROJCACHE_BINARY, the one bundled in the
wheel, then PATH."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional

BUNDLED = Path(__file__).resolve().parent / "bin" / "projcache"


class BinaryNotFound(FileNotFoundError):
    """No projcache binary could be found; the message says where we looked."""


def bundled_binary() -> Optional[str]:
    return str(BUNDLED) if BUNDLED.is_file() and os.access(BUNDLED, os.X_OK) else None


def find_binary(explicit: Optional[str] = None, use_path: bool = True) -> str:
    """The binary to run. An explicit path or $PROJCACHE_BINARY must exist: a typo there is an
    error, not a reason to run some other copy."""
    for source, value in (("the binary argument", explicit), ("PROJCACHE_BINARY", os.environ.get("PROJCACHE_BINARY"))):
        if value:
            found = shutil.which(value) if os.sep not in value else (value if os.access(value, os.X_OK) else None)
            if not found:
                raise BinaryNotFound(f"{source} names {value!r}, which is not an executable file")
            return found
    bundled = bundled_binary()
    if bundled:
        return bundled
    on_path = shutil.which("projcache") if use_path else None
    if on_path:
        return on_path
    raise BinaryNotFound("no projcache binary: this package has none bundled (install a platform wheel, "
                         "built with scripts/wheel.sh), PROJCACHE_BINARY is not set, and none is on PATH")
