"""A minimal FastAPI app shaped like SkillMeat's: its own auth, projcache's routes behind it,
and a route of its own that reads the cache through the CacheManager adapter.

    SKILLMEAT_TOKEN=secret PORT=8080 python3 skillmeat_app.py

Then: curl -H 'Authorization: Bearer secret' http://127.0.0.1:8080/api/v1/cache/status
"""
import os

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request

from projcache.fastapi import Projcache
from projcache.skillmeat import CacheManager

TOKEN = os.environ.get("SKILLMEAT_TOKEN", "secret")


def require_auth(request: Request) -> None:
    """Stands for SkillMeat's Bearer/Clerk auth."""
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise HTTPException(status_code=401, detail="Not authenticated")


pc = Projcache(home=os.environ.get("SKILLMEAT_HOME"),  # every Sidecar option may be passed
               websocket_auth=lambda ws: ws.query_params.get("token") == TOKEN)
# On FastAPI 0.93 and later these are the three lines:
#     app = FastAPI(lifespan=pc.lifespan)
#     app.include_router(pc.router, prefix="/api/v1", dependencies=[Depends(require_auth)])
# install() does the same on every FastAPI, 0.92 (Debian 12) included.
app = FastAPI(title="skillmeat-like")
pc.install(app, dependencies=[Depends(require_auth)])
cache = CacheManager(projcache=pc)


@app.get("/api/v1/outdated", dependencies=[Depends(require_auth)])
def outdated():
    """An app route using SkillMeat's CacheManager calls, answered by projcache."""
    return [{"project": a.project_id, "name": a.name, "deployed": a.deployed_version, "upstream": a.upstream_version}
            for a in cache.get_outdated_artifacts()]


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8080")), log_level="info")
