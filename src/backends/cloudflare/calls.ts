/**
 * How the Worker and the Durable Objects call each other: one POST per call, `{ method }` in the
 * path and the arguments as a JSON array, the answer `{ ok: true, value }` or `{ ok: false, error }`
 * with the `ChatStoreError`'s code, message and path, so that errors keep their code across the
 * hop. A call that cannot reach the object (overloaded, reset, the network) is `UNAVAILABLE`.
 */
import { ChatStoreError, ERROR_CODES, type ErrorCode } from '../../errors.js';
import type { DurableObjectStub } from './platform.js';

type Answer =
  | { ok: true; value?: unknown }
  | { ok: false; error: { code?: ErrorCode; message: string; path?: string } };

/** An object's calls by name; each takes the JSON arguments and answers JSON (or undefined). */
export type CallHandlers = Record<string, (...args: never[]) => unknown>;

/** Calls `method` of the object behind `stub`; its `ChatStoreError` is thrown here again. */
export async function callObject<T>(stub: DurableObjectStub, method: string, args: unknown[]): Promise<T> {
  let answer: Answer;
  try {
    const response = await stub.fetch(`https://chatstore.internal/${method}`, {
      method: 'POST',
      body: JSON.stringify(args),
    });
    answer = (await response.json()) as Answer;
  } catch (error) {
    throw new ChatStoreError('UNAVAILABLE', `cloudflare: ${method} did not reach its object: ${String(error)}`, {
      cause: error,
    });
  }
  if (answer.ok) return answer.value as T;
  const { code, message, path } = answer.error;
  // Without a code the object hit a bug: it stays a plain error, to be fixed rather than retried.
  if (code === undefined || !ERROR_CODES.includes(code)) throw new Error(message);
  throw new ChatStoreError(code, message, { ...(path === undefined ? {} : { path }) });
}

/**
 * Answers one call to an object. A `ChatStoreError` goes back with its code; an error the runtime
 * marks `retryable` or `overloaded` (storage reset, overloaded object) as `UNAVAILABLE`; anything
 * else is a bug and goes back without a code (the object's log has the rest).
 *
 * Every answer carries `Server-Timing: call;dur=<ms>`, the object's own time for the call: from
 * the request's arrival to the handler's result, by `performance.now()` inside the object. It is
 * observability only (callers read the JSON; the benchmark reads the header, bench/worker.ts).
 * Deployed, Workers' clocks advance only across I/O (a Spectre mitigation), so there it counts
 * the time the call waited on what it awaits (an append: its calls to the directory) and 0 for
 * synchronous work; local workerd (Miniflare, wrangler dev) advances them while code runs, in
 * whole milliseconds, so there it is the call's whole time.
 */
export async function answerCall(request: Request, handlers: CallHandlers): Promise<Response> {
  const started = performance.now();
  const answer = (body: Answer, status?: number): Response =>
    Response.json(body, {
      ...(status === undefined ? {} : { status }),
      headers: { 'server-timing': `call;dur=${performance.now() - started}` },
    });
  const method = new URL(request.url).pathname.slice(1);
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
  if (handler === undefined) {
    return answer({ ok: false, error: { code: 'UNSUPPORTED', message: `no call ${method}` } }, 404);
  }
  try {
    const args = (await request.json()) as never[];
    return answer({ ok: true, value: await handler(...args) });
  } catch (error) {
    if (error instanceof ChatStoreError) {
      return answer({
        ok: false,
        error: { code: error.code, message: error.message, ...(error.path === undefined ? {} : { path: error.path }) },
      });
    }
    const flags = (error ?? {}) as { retryable?: unknown; overloaded?: unknown };
    const unavailable = flags.retryable === true || flags.overloaded === true;
    if (!unavailable) console.error(`chatstore: ${method} failed`, error);
    return answer({
      ok: false,
      error: { ...(unavailable ? { code: 'UNAVAILABLE' } : {}), message: `cloudflare: ${method}: ${String(error)}` },
    });
  }
}
