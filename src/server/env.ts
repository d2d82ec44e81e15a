/**
 * The Hono environment of the chatstore app. Runtime facts arrive as bindings (the second argument
 * of `app.fetch`), so the app itself stays Web-standard: the Node edge passes the socket's remote
 * address, a test passes whatever it wants to `app.request(path, init, bindings)`.
 */
import type { Principal } from './principal.js';

/** What the runtime edge tells the app about a request. */
export interface ServerBindings {
  /** The peer's IP address as the socket saw it (never from `X-Forwarded-For`). */
  remoteAddress?: string;
}

export interface ServerEnv {
  Bindings: ServerBindings;
  Variables: {
    requestId: string;
    /** The caller, once an API key was checked; absent on public routes and on keyless servers. */
    principal?: Principal;
  };
}
