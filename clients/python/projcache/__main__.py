"""The `projcache` console command of the wheel: runs the bundled binary with the same arguments."""
from __future__ import annotations

import os
import sys

from ._binary import BinaryNotFound, find_binary


def main() -> None:
    try:
        # Not PATH: the first `projcache` there may be this very script.
        binary = find_binary(use_path=False)
    except BinaryNotFound as e:
        sys.stderr.write(f"projcache: {e}\n")
        raise SystemExit(127)
    # exec keeps the process id, so a parent's signals and the parent-death check reach the server.
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    main()
