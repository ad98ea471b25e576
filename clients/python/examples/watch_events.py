"""Follow projcache's live events: what changed on disk, about a debounce interval later.

    python3 watch_events.py [--count N] [SKILLMEAT_HOME [SEARCH_ROOT ...]]

Prints one line per event. The stream reconnects by itself; `resync_required` means "refetch
over REST". Stops after N events (default: never; Ctrl-C).
"""
import argparse
import asyncio

from projcache import Sidecar


async def watch(sc, count):
    seen = 0
    async for event in sc.events(types=["changes_detected", "project_added", "project_removed",
                                        "refresh_error", "resync_required"]):
        details = event["details"]
        changed = len(details.get("added", [])) + len(details.get("changed", [])) + len(details.get("removed", []))
        print(f"{event['seq']} {event['type']} project={event['project_id']} artifacts={changed}", flush=True)
        seen += 1
        if count and seen >= count:
            return


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("home", nargs="?")
    ap.add_argument("roots", nargs="*")
    args = ap.parse_args()
    with Sidecar(home=args.home, search_roots=args.roots or None) as sc:
        print(f"watching {sc.url}", flush=True)
        try:
            asyncio.run(watch(sc, args.count))
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
