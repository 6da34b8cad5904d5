// URL state. Every page keeps its state in the query string so that a link, a reload, and the
// browser's back/forward buttons reproduce what is on screen. This module owns the one copy of
// the current location and tells subscribers when it changes (pushState, replaceState or a
// popstate from back/forward).

import { useEffect, useState } from "preact/hooks";

/** Query parameters as an ordered map of name → values (a name may repeat, e.g. `var-x`). */
export type ParamMap = Record<string, string[]>;

/** The current location as the app sees it. */
export interface AppLocation {
  /** Path, e.g. `/d/service`. */
  path: string;
  /** Decoded query parameters. */
  params: ParamMap;
}

/** Parses a query string (with or without the leading `?`) into a ParamMap. */
export function decodeParams(search: string): ParamMap {
  const out: ParamMap = {};
  const sp = new URLSearchParams(search.startsWith("?") ? search.slice(1) : search);
  for (const [k, v] of sp) {
    (out[k] ??= []).push(v);
  }
  return out;
}

/** Serialises a ParamMap to a query string without `?`; names keep their insertion order. */
export function encodeParams(params: ParamMap): string {
  const sp = new URLSearchParams();
  for (const [k, vs] of Object.entries(params)) {
    for (const v of vs) sp.append(k, v);
  }
  return sp.toString();
}

/** First value of a parameter, or `fallback`. */
export function firstParam(params: ParamMap, name: string, fallback = ""): string {
  return params[name]?.[0] ?? fallback;
}

/** A change to the parameters: a string or list sets, `null`/`undefined` removes. */
export type ParamUpdate = Record<string, string | string[] | null | undefined>;

/** Applies `updates` to `params`, returning a new map. */
export function applyParamUpdate(params: ParamMap, updates: ParamUpdate): ParamMap {
  const out: ParamMap = { ...params };
  for (const [k, v] of Object.entries(updates)) {
    if (v === null || v === undefined) delete out[k];
    else out[k] = Array.isArray(v) ? [...v] : [v];
  }
  return out;
}

/** Builds an in-app href from a path and parameters. */
export function buildHref(path: string, params: ParamMap = {}): string {
  const q = encodeParams(params);
  return q ? `${path}?${q}` : path;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let current: AppLocation = readWindowLocation();

function readWindowLocation(): AppLocation {
  if (typeof window === "undefined") return { path: "/", params: {} };
  return { path: window.location.pathname, params: decodeParams(window.location.search) };
}

function notify(): void {
  current = readWindowLocation();
  for (const l of listeners) l();
}

if (typeof window !== "undefined") {
  window.addEventListener("popstate", notify);
}

/** The current location. */
export function currentLocation(): AppLocation {
  return current;
}

/** Options for navigation. */
export interface NavigateOptions {
  /** Replace the history entry instead of pushing a new one (e.g. while typing). */
  replace?: boolean;
}

/** Goes to an in-app href (`/path?query`). */
export function navigate(href: string, opts: NavigateOptions = {}): void {
  if (typeof window === "undefined") return;
  const here = window.location.pathname + window.location.search;
  if (href === here) return;
  if (opts.replace) window.history.replaceState(null, "", href);
  else window.history.pushState(null, "", href);
  notify();
}

/** Changes some query parameters of the current page. */
export function updateParams(updates: ParamUpdate, opts: NavigateOptions = {}): void {
  const next = applyParamUpdate(current.params, updates);
  navigate(buildHref(current.path, next), opts);
}

/** Subscribes a callback to location changes; returns the unsubscribe function. */
export function subscribeLocation(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Hook: the current location, re-rendering on every change. */
export function useLocation(): AppLocation {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = () => setLoc(current);
    const unsub = subscribeLocation(l);
    // The location may have changed between render and subscription.
    l();
    return unsub;
  }, []);
  return loc;
}

/** Hook: one query parameter's first value, or `fallback`. */
export function useParam(name: string, fallback = ""): string {
  return firstParam(useLocation().params, name, fallback);
}
