/**
 * The Node edge of the app: an HTTP listener (@hono/node-server) and graceful shutdown. Everything
 * Node-specific lives here; the app stays a Web-standard `fetch` handler.
 *
 * Shutdown: stop accepting connections; serve what already arrived, answering with
 * `Connection: close` so clients do not reuse the socket; close keep-alive connections that sit idle
 * (every `IDLE_SWEEP_MS`, so a connection accepted just before has time to deliver its request);
 * after `shutdownTimeoutMs`, cut whatever is still open.
 *
 * `Connection: close` is decided when the response head is written (`writeHead`, which every
 * answer goes through), not when the request arrives: a request already in flight when shutdown
 * starts, an answer @hono/node-server writes itself (a request it cannot parse), and a `Response`
 * that names its own `Connection` header all say `close` while the server drains.
 */
import { type OutgoingHttpHeader, type OutgoingHttpHeaders, type Server, ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import type { ServerBindings } from './env.js';

/** How often shutdown closes connections that sit idle (no request in progress). */
const IDLE_SWEEP_MS = 250;
const netServerClose = NetServer.prototype.close;

/** Anything with a Web `fetch` that takes our bindings: the chatstore app, a bare Hono app. */
export interface FetchApp {
  fetch(request: Request, bindings: ServerBindings): Response | Promise<Response>;
}

/** @example await startNodeServer(app, { port: 8080, host: '127.0.0.1' }); */
export interface NodeServerOptions {
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** How long shutdown waits for in-flight requests before closing their connections. Default 10 s. */
  shutdownTimeoutMs?: number;
}

/** A listening server. @example const server = await startNodeServer(app, options); await server.shutdown(); */
export interface NodeServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** True from the moment shutdown starts. */
  readonly draining: boolean;
  /** Stops accepting and resolves once every connection is closed. Safe to call twice. */
  shutdown(): Promise<void>;
  /** Closes every connection now, in-flight requests included (a second Ctrl-C). */
  forceClose(): void;
}

/**
 * Listens with the app, passing the socket's remote address as `ServerBindings.remoteAddress`.
 * @example
 * const server = await startNodeServer(createApp(store, { draining: () => server.draining }), { port: 8080, host: '127.0.0.1' });
 */
export async function startNodeServer(app: FetchApp, options: NodeServerOptions): Promise<NodeServer> {
  let draining = false;
  let closing: Promise<void> | undefined;
  /** A response that says `Connection: close` whenever its head is written while the server drains. */
  class DrainingResponse extends ServerResponse {
    override writeHead(
      statusCode: number,
      reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
      headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
    ): this {
      if (!draining) return super.writeHead(statusCode, reason as string, headers);
      // Connection headers given here would override the one set below: drop them.
      const given = typeof reason === 'string' ? headers : reason;
      const kept = withoutConnectionHeaders(given);
      this.removeHeader('Keep-Alive');
      this.setHeader('Connection', 'close');
      this.shouldKeepAlive = false;
      return typeof reason === 'string'
        ? super.writeHead(statusCode, reason, kept)
        : super.writeHead(statusCode, kept as OutgoingHttpHeaders);
    }
  }
  const server = createAdaptorServer({
    hostname: options.host,
    serverOptions: { ServerResponse: DrainingResponse as typeof ServerResponse },
    fetch: (request: Request, env: unknown) => {
      const { incoming } = env as HttpBindings;
      // A getter: the address is only looked up when the app asks (keyless servers).
      return app.fetch(request, {
        get remoteAddress() {
          return incoming.socket.remoteAddress;
        },
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const http = server as Server;

  return {
    url: `http://${host}:${port}`,
    port,
    get draining() {
      return draining;
    },
    shutdown() {
      closing ??= new Promise<void>((resolve, reject) => {
        draining = true;
        // Stop listening only: http.Server#close would also drop idle connections at once, and a
        // connection accepted a moment ago looks idle until its request has been read.
        netServerClose.call(http, (error?: Error) => {
          clearInterval(sweep);
          clearTimeout(force);
          if (error !== undefined) reject(error);
          else resolve();
        });
        // Keep-alive connections without a request would hold the shutdown until their timeout.
        const sweep = setInterval(() => http.closeIdleConnections(), IDLE_SWEEP_MS);
        const force = setTimeout(() => http.closeAllConnections(), options.shutdownTimeoutMs ?? 10_000);
      });
      return closing;
    },
    forceClose() {
      draining = true;
      http.closeAllConnections();
    },
  };
}

/** Response headers without `Connection` and `Keep-Alive`, in the object or flat-array form Node takes. */
function withoutConnectionHeaders(
  headers: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined,
): OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined {
  const hopByHop = (name: unknown) => typeof name === 'string' && /^(connection|keep-alive)$/i.test(name);
  if (headers === undefined) return undefined;
  if (!Array.isArray(headers)) {
    return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop(name)));
  }
  // [[name, value], …] or [name, value, name, value, …]
  if (headers.every((entry) => Array.isArray(entry))) {
    return (headers as unknown as [string, OutgoingHttpHeader][]).filter(([name]) => !hopByHop(name)) as never;
  }
  const kept: OutgoingHttpHeader[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!hopByHop(headers[i])) kept.push(headers[i] as OutgoingHttpHeader, headers[i + 1] as OutgoingHttpHeader);
  }
  return kept;
}
