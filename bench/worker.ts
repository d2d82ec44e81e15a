/**
 * What the `worker` workload runs in workerd (Miniflare), beside the Node server:
 *
 * - `startChatstoreWorker()`: chatstore's Worker over its Durable Objects (bench/worker-entry.ts,
 *   bundled by esbuild), with the configuration of the tests' `startWorker`
 *   (test/fixtures/cloudflare/miniflare.ts: the compatibility date and flags, SQLite-backed objects
 *   in memory), and Miniflare's handle on the objects kept for `objectTimedStore`.
 * - `objectTimedStore(worker)`: on a second Worker whose objects also count the rows their SQL
 *   writes (bench/worker-counting-entry.ts), a `ChatStore` in this process over `cloudflareBackend` with
 *   Miniflare's Durable Object namespaces as its bindings, so each call goes straight to the
 *   conversation's object (through Miniflare's proxy, whose own time is not measured) and the
 *   `Server-Timing` of the object's answer (`answerCall` in src/backends/cloudflare/calls.ts)
 *   is kept: the object's own time per call, taken inside it.
 * - `startFloorWorker(answers)`: the floor, a bare Worker in its own Miniflare on the same runtime
 *   and loopback, answering every GET and every POST with constant bytes (what the chatstore
 *   Worker answered to the client's `recent` and `append`, status and content type included), so
 *   the client parses the same answers and the gap to it is chatstore, not the runtime or the
 *   socket. It also answers `/clock`, the check of workerd's clock (`clockCheck`).
 */
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { cloudflareBackend } from '../src/backends/cloudflare/backend.js';
import {
  type ChatStoreBindings,
  conversationObject,
  directoryShard,
  directoryShards,
} from '../src/backends/cloudflare/bindings.js';
import type { DurableObjectNamespace, DurableObjectStub } from '../src/backends/cloudflare/platform.js';
import { ChatStore } from '../src/store.js';
import { bundleWorker, COMPATIBILITY_DATE, COMPATIBILITY_FLAGS } from '../test/fixtures/cloudflare/bundle.js';
import { now } from './harness.js';

/** The API key the chatstore Worker is given (every scope). */
export const WORKER_API_KEY = 'bench-worker-key-0123456789';

/** A Worker listening on a loopback port. */
export interface RunningWorker {
  url: string;
  miniflare: Miniflare;
  dispose(): Promise<void>;
}

/** One response as the client received it, to be served again by the floor. */
export interface CapturedAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** Which Worker: chatstore's own (bench/worker-entry.ts), or with its objects counting rows written. */
export type WorkerEntry = 'worker-entry' | 'worker-counting-entry';

/**
 * chatstore's Worker with fresh in-memory Durable Objects, configured as the tests' `startWorker`;
 * `counting`: the objects of bench/worker-counting-entry.ts, for `objectTimedStore`.
 */
export async function startChatstoreWorker(entry: WorkerEntry = 'worker-entry'): Promise<RunningWorker> {
  const { Miniflare } = await import('miniflare');
  const miniflare = new Miniflare({
    modules: true,
    script: await chatstoreBundle(entry),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    durableObjects: {
      CHATSTORE_CONVERSATIONS: { className: 'ConversationObject', useSQLite: true },
      CHATSTORE_DIRECTORY: { className: 'DirectoryObject', useSQLite: true },
    },
    bindings: { CHATSTORE_API_KEYS: `${WORKER_API_KEY}:read,write,admin` },
    host: '127.0.0.1',
    port: 0,
  });
  return running(miniflare);
}

const bundles = new Map<WorkerEntry, Promise<string>>();

/** An entry as one ES module, built once per process. */
function chatstoreBundle(entry: WorkerEntry): Promise<string> {
  const built = bundles.get(entry) ?? bundleWorker(fileURLToPath(new URL(`./${entry}.ts`, import.meta.url)));
  bundles.set(entry, built);
  return built;
}

/**
 * The floor: a Worker that reads the request body and answers a GET with `recent` and a POST with
 * `append`, byte for byte. `GET /clock?iterations=N` runs N rounds of a loop and says how far
 * `performance.now()` and `Date.now()` moved during it, and across a 10 ms timer after it.
 */
export async function startFloorWorker(answers: {
  recent: CapturedAnswer;
  append: CapturedAnswer;
}): Promise<RunningWorker> {
  const { Miniflare } = await import('miniflare');
  const miniflare = new Miniflare({
    modules: true,
    script: FLOOR_SCRIPT,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    bindings: { ANSWERS: JSON.stringify(answers) },
    host: '127.0.0.1',
    port: 0,
  });
  return running(miniflare);
}

const FLOOR_SCRIPT = `
let answers;
export default {
  async fetch(request, env) {
    answers ??= JSON.parse(env.ANSWERS);
    const url = new URL(request.url);
    if (url.pathname === '/clock') {
      const iterations = Number(url.searchParams.get('iterations'));
      const performanceStart = performance.now();
      const dateStart = Date.now();
      let x = 0;
      for (let i = 0; i < iterations; i++) x = (x + Math.imul(i, 2654435761)) >>> 0;
      const syncPerformanceMs = performance.now() - performanceStart;
      const syncDateMs = Date.now() - dateStart;
      const timerStart = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 10));
      const timerMs = performance.now() - timerStart;
      return Response.json({ syncPerformanceMs, syncDateMs, timerMs, x });
    }
    const answer = request.method === 'GET' ? answers.recent : answers.append;
    await request.arrayBuffer();
    return new Response(answer.body, { status: answer.status, headers: { 'content-type': answer.contentType } });
  },
};
`;

async function running(miniflare: Miniflare): Promise<RunningWorker> {
  try {
    const url = await miniflare.ready;
    return { url: url.href.replace(/\/$/, ''), miniflare, dispose: () => miniflare.dispose() };
  } catch (error) {
    await miniflare.dispose();
    throw error;
  }
}

/** A store whose calls go straight to the objects; `timings` has the object's own time of each. */
export interface ObjectTimedStore {
  store: ChatStore;
  /** Per call name (`append`, `range`…), the `Server-Timing` `dur` of each answer, in ms, in order. */
  timings: Map<string, number[]>;
  /**
   * The rows the SQL of conversation `id`'s object and of the directory's shards (all of them,
   * added up) wrote so far (table rows and index entries, SQLite's `rowsWritten`); needs the
   * counting Worker.
   */
  rowsWritten(conversationId: string): Promise<{ conversation: number; directory: number }>;
}

/**
 * @example
 * const { store, timings } = await objectTimedStore(worker);
 * await store.append('c', { role: 'user', content: 'hi' });
 * timings.get('append'); // [3]
 */
export async function objectTimedStore(worker: RunningWorker): Promise<ObjectTimedStore> {
  const timings = new Map<string, number[]>();
  const timed = (namespace: DurableObjectNamespace): DurableObjectNamespace => ({
    idFromName: (name) => namespace.idFromName(name),
    get(id): DurableObjectStub {
      const stub = namespace.get(id);
      return {
        async fetch(input, init) {
          const response = await stub.fetch(input, init);
          const duration = serverTimingMs(response.headers.get('server-timing'));
          if (duration !== undefined) {
            const method = new URL(input).pathname.slice(1);
            const samples = timings.get(method) ?? [];
            samples.push(duration);
            timings.set(method, samples);
          }
          return response;
        },
      };
    },
  });
  // Miniflare's namespaces have the runtime's shape; its types are its own copy of workers-types.
  const namespace = async (name: string) =>
    (await worker.miniflare.getDurableObjectNamespace(name)) as unknown as DurableObjectNamespace;
  const conversations = await namespace('CHATSTORE_CONVERSATIONS');
  const directory = await namespace('CHATSTORE_DIRECTORY');
  const store = new ChatStore(
    cloudflareBackend({ CHATSTORE_CONVERSATIONS: timed(conversations), CHATSTORE_DIRECTORY: timed(directory) }),
  );
  const bindings: ChatStoreBindings = { CHATSTORE_CONVERSATIONS: conversations, CHATSTORE_DIRECTORY: directory };
  const rows = async (stub: DurableObjectStub) =>
    (await (await stub.fetch('https://chatstore.internal/bench-rows-written')).json()) as number;
  return {
    store,
    timings,
    async rowsWritten(conversationId) {
      // The counting Worker sets no CHATSTORE_DIRECTORY_SHARDS: the directory is its default number of shards.
      const shards = directoryShards(bindings);
      let inDirectory = 0;
      for (let shard = 0; shard < shards; shard++) inDirectory += await rows(directoryShard(bindings, shard));
      return { conversation: await rows(conversationObject(bindings, conversationId)), directory: inDirectory };
    },
  };
}

/** `call;dur=2.5` → 2.5; undefined without a `dur`. */
export function serverTimingMs(header: string | null): number | undefined {
  const match = /(?:^|;)\s*dur=([\d.]+)/.exec(header ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** What workerd's clock did during synchronous work, against the wall time Node saw. */
export interface ClockCheck {
  iterations: number;
  /** Node's time for the request with the loop, less that of the same request without it. */
  wallMs: number;
  /** How far `performance.now()` and `Date.now()` moved inside the Worker during the loop. */
  performanceMs: number;
  dateMs: number;
  /** `performance.now()` across `await` of a 10 ms timer, inside the Worker. */
  timerMs: number;
}

/**
 * Asks the floor to run a loop long enough to take tens of ms, and compares the Worker's clocks
 * with Node's: a clock that does not advance while code runs shows 0 against a wall time of many ms.
 */
export async function clockCheck(floor: RunningWorker, iterations = 10_000_000): Promise<ClockCheck> {
  const ask = async (n: number) => {
    const began = now();
    const answer = (await (await fetch(`${floor.url}/clock?iterations=${n}`)).json()) as {
      syncPerformanceMs: number;
      syncDateMs: number;
      timerMs: number;
    };
    return { ...answer, wallMs: now() - began };
  };
  await ask(iterations); // compiles the loop
  const empty = await ask(0);
  const loop = await ask(iterations);
  return {
    iterations,
    wallMs: loop.wallMs - empty.wallMs,
    performanceMs: loop.syncPerformanceMs,
    dateMs: loop.syncDateMs,
    timerMs: loop.timerMs,
  };
}
