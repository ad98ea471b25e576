// projcache-client/react: keeps a React Query cache fresh from projcache's event feed, so a
// change on disk reaches the page in about the server's debounce, without polling.
//
// SkillMeat's components/providers.tsx would add, inside Providers():
//   import { useProjcacheEvents } from "projcache-client/react";
//   useProjcacheEvents(queryClient, { url: process.env.NEXT_PUBLIC_PROJCACHE_URL ?? "http://127.0.0.1:8765" });
// (and can then drop the 60 s refetchInterval of useCacheStatus).
import { useEffect, useRef } from "react";
import type { QueryClient, QueryKey } from "@tanstack/react-query";

import { EventStream, type CacheEvent, type EventStreamOptions, type ResyncRequired } from "./index.js";

type LiveEvent = Exclude<CacheEvent, ResyncRequired>;

// The query keys of SkillMeat's web UI (skillmeat/web/hooks/) that an event makes stale.
// React Query matches them as prefixes: ["projects", "list"] covers
// ["projects", "list", "with-cache-info"].
export function queryKeysFor(event: LiveEvent): QueryKey[] {
  const status: QueryKey = ["cache", "status"]; // useCacheStatus
  const lists: QueryKey[] = [["projects", "list"], ["outdated-artifacts"]]; // useProjects, useProjectCache, useOutdatedArtifacts
  const project: QueryKey[] = event.project_id
    ? [["projects", "detail", event.project_id], ["cache", event.project_id]] // useProject, useCacheRefresh
    : [];
  switch (event.type) {
    case "refresh_started":
      return []; // nothing has changed yet
    case "refresh_completed":
      return event.changes_detected ? [status, ...lists, ...project] : [status];
    case "changes_detected":
    case "refresh_error":
    case "project_added":
    case "project_removed":
      return [status, ...lists, ...project];
    case "cache_rebuilt":
      return [["cache"], ["projects"], ["outdated-artifacts"]];
  }
}

export interface QueryBindingOptions extends Omit<EventStreamOptions, "onEvent" | "onResync"> {
  // Invalidations are gathered for this long and sent as one batch (default 30 ms).
  debounceMs?: number;
  // More keys to invalidate for an event, beyond queryKeysFor's.
  extraKeys?: (event: LiveEvent) => QueryKey[];
  onEvent?: (event: LiveEvent) => void;
  onResync?: (event: ResyncRequired) => void;
}

// Binds a QueryClient to the feed outside React; returns the function that unbinds it.
export function bindQueryClient(queryClient: QueryClient, opts: QueryBindingOptions): () => void {
  const pending = new Map<string, QueryKey>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    const keys = [...pending.values()];
    pending.clear();
    for (const queryKey of keys) void queryClient.invalidateQueries({ queryKey });
  };
  const stream = new EventStream({
    ...opts,
    onEvent: (event) => {
      for (const key of [...queryKeysFor(event), ...(opts.extraKeys?.(event) ?? [])]) pending.set(JSON.stringify(key), key);
      if (pending.size && timer === undefined) timer = setTimeout(flush, opts.debounceMs ?? 30);
      opts.onEvent?.(event);
    },
    onResync: (event) => {
      // Events were missed: every query may be stale.
      clearTimeout(timer);
      timer = undefined;
      pending.clear();
      void queryClient.invalidateQueries();
      opts.onResync?.(event);
    },
  });
  return () => {
    clearTimeout(timer);
    stream.stop();
  };
}

// The hook: binds while mounted; a new url, key or filter rebinds.
export function useProjcacheEvents(queryClient: QueryClient, opts: QueryBindingOptions): void {
  const latest = useRef(opts);
  latest.current = opts;
  const identity = JSON.stringify([opts.url, opts.apiKey ?? null, opts.types ?? null, opts.projectIds ?? null]);
  useEffect(
    () =>
      bindQueryClient(queryClient, {
        ...latest.current,
        onEvent: (e) => latest.current.onEvent?.(e),
        onResync: (e) => latest.current.onResync?.(e),
        onState: (s) => latest.current.onState?.(s),
        onDisconnect: (why) => latest.current.onDisconnect?.(why),
      }),
    [queryClient, identity],
  );
}
