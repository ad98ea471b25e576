"""The REST client: one method per route, plain dicts back. Only the standard library."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional


class ProjcacheError(Exception):
    """An error answer: status and FastAPI-style detail (a string, or a list for 422)."""

    def __init__(self, status: int, detail: Any):
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


class ProjcacheUnavailable(ProjcacheError, ConnectionError):
    """No projcache answers (not started, exited, or not available on this platform)."""

    def __init__(self, detail: str):
        super().__init__(503, detail)


class Client:
    def __init__(self, base_url: str, api_key: Optional[str] = None, timeout: float = 60.0):
        self.base = base_url.rstrip("/")
        self.api_key, self.timeout = api_key, timeout

    # -- plumbing
    def _request(self, method: str, path: str, params: Optional[dict] = None, body: Any = None) -> Any:
        query = {k: ("true" if v is True else "false" if v is False else v) for k, v in (params or {}).items() if v is not None}
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.api_key:
            req.add_header("X-API-Key", self.api_key)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return json.loads(res.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                detail = json.loads(raw).get("detail")
            except (ValueError, AttributeError):
                detail = raw.decode(errors="replace")
            raise ProjcacheError(e.code, detail) from None
        except OSError as e:  # refused, reset, timed out (URLError is one)
            reason = getattr(e, "reason", e)
            raise ProjcacheUnavailable(f"projcache at {self.base} did not answer ({reason})") from None

    # -- routes
    def status(self) -> dict:
        return self._request("GET", "/api/v1/cache/status")

    def projects(self, status: Optional[str] = None, skip: int = 0, limit: int = 100) -> dict:
        return self._request("GET", "/api/v1/cache/projects", {"status": status, "skip": skip, "limit": limit})

    def project(self, project_id: str) -> dict:
        return self._request("GET", "/api/v1/cache/projects/" + urllib.parse.quote(project_id, safe=""))

    def artifacts(self, project_id: Optional[str] = None, type: Optional[str] = None, is_outdated: Optional[bool] = None,
                  skip: int = 0, limit: int = 100) -> dict:
        return self._request("GET", "/api/v1/cache/artifacts", {"project_id": project_id, "type": type,
                                                                "is_outdated": is_outdated, "skip": skip, "limit": limit})

    def stale_artifacts(self, type: Optional[str] = None, project_id: Optional[str] = None, sort_by: str = "name",
                        sort_order: str = "asc", skip: int = 0, limit: int = 100) -> dict:
        return self._request("GET", "/api/v1/cache/stale-artifacts", {"type": type, "project_id": project_id, "sort_by": sort_by,
                                                                      "sort_order": sort_order, "skip": skip, "limit": limit})

    def search(self, query: str, project_id: Optional[str] = None, type: Optional[str] = None, sort_by: str = "relevance",
               skip: int = 0, limit: int = 50) -> dict:
        return self._request("GET", "/api/v1/cache/search", {"query": query, "project_id": project_id, "type": type,
                                                             "sort_by": sort_by, "skip": skip, "limit": limit})

    def refresh(self, project_id: Optional[str] = None, force: bool = False) -> dict:
        return self._request("POST", "/api/v1/cache/refresh", body={"project_id": project_id, "force": force})

    def invalidate(self, project_id: Optional[str] = None) -> dict:
        return self._request("POST", "/api/v1/cache/invalidate", body={"project_id": project_id})

    def marketplace(self, type: Optional[str] = None, skip: int = 0, limit: int = 100) -> dict:
        return self._request("GET", "/api/v1/cache/marketplace", {"type": type, "skip": skip, "limit": limit})

    def projects_cache_refresh(self, project_id: Optional[str] = None) -> dict:
        return self._request("POST", "/api/v1/projects/cache/refresh", body={"project_id": project_id} if project_id else {})

    def projects_cache_stats(self) -> dict:
        return self._request("GET", "/api/v1/projects/cache/stats")

    def projects_cache_clear(self) -> dict:
        """Empties the cache and rediscovers every project from disk."""
        return self._request("POST", "/api/v1/projects/cache/clear")

    def register_project(self, path: str) -> dict:
        """Adds a project folder outside the search roots (persisted); answers its row after its refresh."""
        return self._request("POST", "/api/v1/cache/projects", body={"path": str(path)})

    def forget_project(self, project_id: str) -> dict:
        """Forgets a project registered with register_project."""
        return self._request("DELETE", "/api/v1/cache/projects/" + urllib.parse.quote(project_id, safe=""))

    def healthy(self) -> bool:
        try:
            return self._request("GET", "/healthz").get("status") == "ok"
        except ProjcacheError:
            return False

    def ready(self) -> bool:
        try:
            return self._request("GET", "/readyz").get("status") == "ready"
        except ProjcacheError:
            return False
