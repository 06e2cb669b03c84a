// A thin GraphQL client: POST with fetch for queries and mutations (with the
// session's CSRF token), graphql-ws (graphql-transport-ws) for subscriptions.
// No cache layer: every screen asks for exactly what it shows, and live data is
// pushed, so a normalised cache would only add weight.
import { createClient, type Client } from 'graphql-ws';

export class GraphQLError extends Error {
  constructor(message: string, public code?: string, public status?: number, public extensions: Record<string, unknown> = {}) {
    super(message);
  }
}

function cookie(name: string): string {
  for (const c of document.cookie.split('; ')) {
    const [k, v] = c.split('=');
    if (k === name) return decodeURIComponent(v ?? '');
  }
  return '';
}

let csrfToken = '';
export function setCSRF(tok: string) {
  csrfToken = tok;
}

let onUnauthenticated: () => void = () => {};
export function handleUnauthenticated(f: () => void) {
  onUnauthenticated = f;
}

export async function gql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const csrf = csrfToken || cookie('linkage_csrf');
  if (csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  let body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> & { code?: string } }[] };
  try {
    body = await res.json();
  } catch {
    throw new GraphQLError(`HTTP ${res.status}`, undefined, res.status);
  }
  if (res.status === 401) onUnauthenticated();
  if (body.errors?.length) {
    const e = body.errors[0];
    const code = e.extensions?.code;
    if (code === 'UNAUTHENTICATED') onUnauthenticated();
    throw new GraphQLError(e.message, code, res.status, e.extensions ?? {});
  }
  if (!res.ok || !body.data) throw new GraphQLError(`HTTP ${res.status}`, undefined, res.status);
  return body.data;
}

let ws: Client | null = null;

function wsClient(): Client {
  if (!ws) {
    const url = location.origin.replace(/^http/, 'ws') + '/graphql';
    ws = createClient({
      url,
      lazy: true,
      keepAlive: 15_000,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: async (n) => new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** n, 15_000))),
      on: {
        connected: () => setWSState('connected'),
        closed: (ev) => {
          setWSState('closed');
          if ((ev as CloseEvent)?.code === 4401 || (ev as CloseEvent)?.code === 4403) onUnauthenticated();
        },
        connecting: () => setWSState('connecting'),
      },
    });
  }
  return ws;
}

export type WSState = 'connecting' | 'connected' | 'closed';
let wsState: WSState = 'closed';
const wsListeners = new Set<(s: WSState) => void>();
function setWSState(s: WSState) {
  wsState = s;
  wsListeners.forEach((f) => f(s));
}
export function onWSState(f: (s: WSState) => void): () => void {
  wsListeners.add(f);
  f(wsState);
  return () => wsListeners.delete(f);
}

/** Subscribes; returns the unsubscribe function. */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown> | undefined,
  next: (data: T) => void,
  error: (e: Error) => void,
): () => void {
  return wsClient().subscribe<T>(
    { query, variables },
    {
      next: (r) => {
        if (r.errors?.length) error(new GraphQLError(r.errors[0].message, (r.errors[0].extensions as { code?: string } | undefined)?.code, undefined, (r.errors[0].extensions as Record<string, unknown>) ?? {}));
        else if (r.data) next(r.data as T);
      },
      error: (e) => error(e instanceof Error ? e : new Error(describe(e))),
      complete: () => {},
    },
  );
}

function describe(e: unknown): string {
  if (Array.isArray(e) && e[0]?.message) return e[0].message;
  if (e && typeof e === 'object' && 'reason' in e) return String((e as CloseEvent).reason || 'connection closed');
  return String(e);
}

/** Drops the WebSocket, so the next subscription authenticates afresh (after login/logout). */
export function resetSubscriptions() {
  ws?.dispose();
  ws = null;
}

/** True when the server's schema lacks a field (an API not merged into this build yet). */
export function isMissingField(e: unknown): boolean {
  return e instanceof GraphQLError && /Cannot query field|Unknown type|Cannot query|unknown field/i.test(e.message);
}
