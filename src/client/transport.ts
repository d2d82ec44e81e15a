/**
 * The client's one way to the server: a request with a timeout, retried with backoff when the
 * failure is one a retry can cure (the network, a timeout, 429, 5xx but 501), and the error
 * envelope turned back into the `ChatStoreError` the store threw on the other side. Web APIs only
 * (`fetch`, `AbortController`, `URL`), so it runs in Node, browsers and Workers.
 */
import { ChatStoreError, ERROR_CODES, type ErrorCode } from '../errors.js';

/** The `fetch` the client calls: the global one, or any function of the same shape (a Worker's service binding, a test double). */
export type FetchFunction = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

export interface TransportOptions {
  url: string;
  apiKey?: string;
  fetch: FetchFunction;
  retries: number;
  timeoutMs: number;
  retryDelayMs: number;
}

/** One call: its method, path (already encoded), query, JSON body and headers. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * False for writes a second attempt could change the answer of (a delete answers false, a create
   * CONFLICT, once the first attempt took effect unseen): those are tried once.
   */
  retry?: boolean;
}

/** The error envelope of every failed response (docs/http-api.md, "Errors"). */
interface ErrorEnvelope {
  error?: { code?: unknown; message?: unknown; path?: unknown; requestId?: unknown };
}

/** Codes only HTTP has, as the store's codes a caller of `ChatStore` already handles. */
const HTTP_ONLY_CODES: Readonly<Record<string, ErrorCode>> = {
  UNAUTHENTICATED: 'UNAVAILABLE',
  PERMISSION_DENIED: 'UNAVAILABLE',
  REQUEST_ABORTED: 'UNAVAILABLE',
  INTERNAL: 'UNAVAILABLE',
  UNSUPPORTED_MEDIA_TYPE: 'INVALID_ARGUMENT',
};

/** What a status says when no envelope came (a proxy, or Node refusing a request head over its limit). */
const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'PAYLOAD_TOO_LARGE',
  431: 'PAYLOAD_TOO_LARGE',
  501: 'UNSUPPORTED',
};

/** Statuses a retry may cure; 501 (a feature the store lacks) and other 4xx never change by retrying. */
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** A failure the next attempt may not see. */
class RetryableError extends Error {
  constructor(readonly error: ChatStoreError) {
    super(error.message);
  }
}

export interface Transport {
  /** The response of a successful request, its body unread; a failure as `ChatStoreError`. */
  send(request: HttpRequest, options?: { stream?: boolean }): Promise<Response>;
  /** `send`, then the JSON body. */
  json<T>(request: HttpRequest): Promise<T>;
}

export function createTransport(options: TransportOptions): Transport {
  const base = options.url.replace(/\/+$/, '');

  async function attempt(request: HttpRequest, stream: boolean): Promise<Response> {
    const url = new URL(`${base}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    let payload: string | undefined;
    try {
      payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    } catch (cause) {
      throw new ChatStoreError('INVALID_ARGUMENT', 'the arguments cannot be sent as JSON', { cause });
    }
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new Error(`no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    let response: Response;
    try {
      response = await options.fetch(url.href, {
        method: request.method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        signal: abort.signal,
      });
      if (response.ok && stream) {
        // A stream may take longer than the timeout: the timeout covers the wait for its first byte.
        clearTimeout(timer);
        return response;
      }
      if (response.ok) {
        // Read within the timeout, so that a body that stalls is retried like a request that does.
        const text = await response.text();
        return new Response(text, { status: response.status, headers: response.headers });
      }
      const failure = await errorOf(response);
      throw RETRYABLE_STATUSES.has(response.status) && failure.code === 'UNAVAILABLE'
        ? new RetryableError(failure)
        : failure;
    } catch (error) {
      if (error instanceof ChatStoreError || error instanceof RetryableError) throw error;
      const reason = abort.signal.aborted ? abort.signal.reason : error;
      throw new RetryableError(
        new ChatStoreError(
          'UNAVAILABLE',
          `${request.method} ${request.path} failed: ${reason instanceof Error ? reason.message : String(reason)}`,
          { cause: reason },
        ),
      );
    } finally {
      if (!stream) clearTimeout(timer);
    }
  }

  async function send(request: HttpRequest, sendOptions: { stream?: boolean } = {}): Promise<Response> {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt(request, sendOptions.stream === true);
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        if (tries >= (request.retry === false ? 0 : options.retries)) throw error.error;
        await sleep(Math.min(options.retryDelayMs * 2 ** tries, 5_000));
      }
    }
  }

  return {
    send,
    async json<T>(request: HttpRequest): Promise<T> {
      const response = await send(request);
      return (await response.json()) as T;
    },
  };
}

/** The `ChatStoreError` a failed response stands for: the envelope's code and path, or the status's. */
async function errorOf(response: Response): Promise<ChatStoreError> {
  const text = await response.text().catch(() => '');
  let envelope: ErrorEnvelope | undefined;
  try {
    envelope = JSON.parse(text) as ErrorEnvelope;
  } catch {
    envelope = undefined;
  }
  const error = envelope?.error;
  const sent = typeof error?.code === 'string' ? error.code : undefined;
  const message =
    typeof error?.message === 'string'
      ? error.message
      : `the server answered ${response.status} ${response.statusText}`;
  const code: ErrorCode =
    response.status >= 500 && response.status !== 501 && sent !== 'MISSING_DRIVER'
      ? 'UNAVAILABLE'
      : sent !== undefined && (ERROR_CODES as readonly string[]).includes(sent)
        ? (sent as ErrorCode)
        : (HTTP_ONLY_CODES[sent ?? ''] ?? STATUS_CODES[response.status] ?? 'INVALID_ARGUMENT');
  return new ChatStoreError(code, message, {
    ...(typeof error?.path === 'string' ? { path: error.path } : {}),
    cause: { status: response.status, ...(error === undefined ? {} : { error }) },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
