/**
 * worker (opt-in, `--workloads worker`): chatstore on Cloudflare Durable Objects against
 * chatstore's Node server, both through `chatstore/client`, and a bare Worker as the floor, in one
 * run: one message appended, and the newest 20 of a conversation read, one request at a time.
 *
 * Targets, measured in interleaved rounds (each round runs a block of each, so the machine's
 * drift touches every target alike):
 * - the client → the Node server (`createApp` + `startNodeServer`, in this process) over the
 *   contender's store (for `--backend sqlite`, a SQLite file);
 * - the client → chatstore's Worker in workerd (Miniflare): the Worker, the conversation's Durable
 *   Object, the directory's shards (bench/worker.ts);
 * - the client → a bare Worker in the same runtime answering the same bytes (the floor), and a
 *   bare `fetch` of it: what the runtime, the loopback and the client's own code cost;
 * - inside the ConversationObject: the `Server-Timing` its answers carry, for appends and reads
 *   sent straight to the object (bench/worker.ts `objectTimedStore`).
 * Ratios: p50 ÷ the client's p50 against the floor, and the Worker's p50 ÷ the Node server's.
 */
import { chatStoreClient, type FetchFunction } from '../../src/client/index.js';
import type { NewMessage } from '../../src/model.js';
import { openStore } from '../../src/open.js';
import { createApp } from '../../src/server/app.js';
import { parseApiKeys } from '../../src/server/auth.js';
import { type NodeServer, startNodeServer } from '../../src/server/node.js';
import { benchMessages } from '../data.js';
import { now, type Summary, summarize } from '../harness.js';
import type { CapturedAnswer, ClockCheck, RunningWorker } from '../worker.js';
import type { Row, Sizes, Workload } from '../workload.js';

const RECENT = 20;
const APPEND_CONVERSATION = 'worker-append';
const RECENT_CONVERSATION = 'worker-recent';

type Operation = 'append' | 'recent';

/** One thing measured: how to do one operation, timed from this process. */
interface Target {
  label: string;
  append(conversationId: string, message: NewMessage): Promise<unknown>;
  recent(): Promise<unknown>;
}

/** The order of `targets`, for the ratios. */
const NODE = 0;
const WORKER = 1;
const FLOOR = 2;

/** One table block: an operation, done by `callers` loops at once (each awaiting its own calls). */
interface Pass {
  label: string;
  operation: Operation;
  callers: number;
  conversationId?: string;
}

/**
 * Runs `operation(0 … count-1)` on `callers` loops at once, each timing its own calls; `ms` is the
 * wall time of the whole, for the rate.
 */
async function timed(
  count: number,
  callers: number,
  operation: (i: number) => Promise<unknown>,
): Promise<{ samples: number[]; ms: number }> {
  const samples: number[] = [];
  let next = 0;
  const loop = async () => {
    while (next < count) {
      const i = next++;
      const began = now();
      await operation(i);
      samples.push(now() - began);
    }
  };
  const started = now();
  await Promise.all(Array.from({ length: Math.min(callers, count) }, loop));
  return { samples, ms: now() - started };
}

export const workerWorkload: Workload = {
  id: 'worker',
  title: 'worker: chatstore/client against the Node server, the Worker on Durable Objects (workerd) and a bare Worker',
  method: (sizes) =>
    `In ${sizes.workerRounds} interleaved rounds (a block of each target per round): ${sizes.workerAppends} appends of one message into one conversation per target, one request at a time; ${sizes.workerReads} reads of the newest ${RECENT} of a ${sizes.workerHistory}-message conversation, one at a time; then ${sizes.workerAppends} appends by ${sizes.workerCallers} callers at once into one conversation (each awaiting its own). Through chatstore/client (retries off) to: the Node server (createApp + startNodeServer on 127.0.0.1, in this process, with the Worker's API key) over the contender's store; chatstore's Worker in workerd (Miniflare: chatstoreWorker() with SQLite-backed Durable Objects in memory, nothing fsynced); and a bare Worker on the same runtime and loopback answering the bytes the chatstore Worker answered (the floor; "fetch → bare Worker" is a bare fetch and JSON parse of it, without the client). "inside the ConversationObject" is the Server-Timing of the object's answers to ${sizes.workerDirect} calls sent to it directly (on a second such Worker whose objects also count the rows their SQL writes: rows written/call = the conversation's object + the directory's shards, SQLite's rowsWritten: table rows and index entries), as workerd's clock gives it (checked under the table). ops/s = calls ÷ their time (at once: ÷ wall time); × floor = p50 ÷ the client's p50 against the bare Worker; × Node = the Worker's p50 ÷ the Node server's. Miniflare on this machine is not Cloudflare's network: the floor shows what the local runtime and loopback cost.`,
  columns: [
    { key: 'operation', label: 'operation' },
    { key: 'target', label: 'target' },
    { key: 'n', label: 'n' },
    { key: 'p50', label: 'p50 ms', digits: 2 },
    { key: 'p99', label: 'p99 ms', digits: 2 },
    { key: 'mean', label: 'mean ms', digits: 2 },
    { key: 'perSecond', label: 'ops/s' },
    { key: 'vsFloor', label: '× floor', digits: 2 },
    { key: 'vsNode', label: '× Node', digits: 2 },
    { key: 'rowsWritten', label: 'rows written/call' },
  ],
  async run(contender, context) {
    const url = contender.storeUrl;
    if (url === undefined || contender.kind !== 'chatstore')
      return [{ status: 'n/a', note: 'chatstore only', cells: {} }];
    const { workspace, dispose } = await context.workspace();
    const storeUrl = url(workspace);
    if (/[?&](maxActiveConversations|cacheUrl|archiveDir)=/.test(storeUrl)) {
      await dispose();
      return [{ status: 'skipped', note: 'measured on the bare row', cells: {} }];
    }
    const { WORKER_API_KEY, clockCheck, objectTimedStore, startChatstoreWorker, startFloorWorker } = await import(
      '../worker.js'
    );
    const cleanups: (() => Promise<unknown>)[] = [dispose];
    try {
      // The contender's instance makes the storage and removes it when it closes; the server gets a store of its own.
      const owner = await contender.open(workspace);
      cleanups.unshift(() => owner.close());
      const store = await openStore(storeUrl);
      cleanups.unshift(() => store.close());
      // The same key as the Worker's, so that both check one (a Node server without keys serves loopback unchecked).
      const apiKeys = parseApiKeys(`${WORKER_API_KEY}:read,write,admin`);
      const server: NodeServer = await startNodeServer(createApp(store, { apiKeys }), {
        port: 0,
        host: '127.0.0.1',
      });
      cleanups.unshift(async () => {
        server.forceClose();
        await server.shutdown();
      });
      const worker = await startChatstoreWorker();
      cleanups.unshift(() => worker.dispose());

      const nodeClient = chatStoreClient({ url: server.url, apiKey: WORKER_API_KEY, retries: 0 });
      const captured: Partial<Record<Operation, CapturedAnswer>> = {};
      const workerClient = chatStoreClient({ url: worker.url, apiKey: WORKER_API_KEY, retries: 0 });
      // Only to take the answers the floor repeats: the measured client's fetch is the plain one.
      const capturingClient = chatStoreClient({
        url: worker.url,
        apiKey: WORKER_API_KEY,
        retries: 0,
        fetch: capturing(captured),
      });
      const { sizes } = context;
      for (const client of [nodeClient, workerClient])
        await prefill(sizes, (batch) => client.append(RECENT_CONVERSATION, batch));
      // The floor's answers: what the chatstore Worker answered to the same two calls.
      await capturingClient.recent(RECENT_CONVERSATION, RECENT);
      await capturingClient.append('worker-capture', benchMessages(APPEND_CONVERSATION, 0, 1)[0] as NewMessage);
      if (captured.recent === undefined || captured.append === undefined) throw new Error('no answer captured');
      const floor = await startFloorWorker({ recent: captured.recent, append: captured.append });
      cleanups.unshift(() => floor.dispose());
      const floorClient = chatStoreClient({ url: floor.url, apiKey: WORKER_API_KEY, retries: 0 });

      const targets: Target[] = [
        clientTarget(`client → Node server (${contender.name})`, nodeClient),
        clientTarget('client → chatstore Worker (Durable Objects)', workerClient),
        clientTarget('client → bare Worker (the floor)', floorClient),
        fetchTarget('fetch → bare Worker', floor, WORKER_API_KEY),
      ];
      // The object's own figures come from a second Worker whose objects also count rows written.
      const counting = await startChatstoreWorker('worker-counting-entry');
      cleanups.unshift(() => counting.dispose());
      const direct = await objectTimedStore(counting);
      await prefill(sizes, (batch) => direct.store.append(`${RECENT_CONVERSATION}-direct`, batch));
      const directTarget: Target = {
        label: 'inside the ConversationObject (Server-Timing)',
        append: (conversationId, message) => direct.store.append(`${conversationId}-direct`, message),
        recent: () => direct.store.recent(`${RECENT_CONVERSATION}-direct`, RECENT),
      };

      const messages = benchMessages(APPEND_CONVERSATION, 0, sizes.workerAppends + sizes.workerWarmup);
      const rows: Omit<Row, 'contender' | 'durability'>[] = [];
      const inside: Record<Operation, number[]> = { append: [], recent: [] };
      const passes: Pass[] = [
        { label: 'append 1', operation: 'append', callers: 1, conversationId: APPEND_CONVERSATION },
        { label: `recent ${RECENT} of ${sizes.workerHistory}`, operation: 'recent', callers: 1 },
        {
          label: `append 1, ${sizes.workerCallers} callers at once`,
          operation: 'append',
          callers: sizes.workerCallers,
          conversationId: `${APPEND_CONVERSATION}-${sizes.workerCallers}`,
        },
      ];
      for (const pass of passes) {
        const total = pass.operation === 'append' ? sizes.workerAppends : sizes.workerReads;
        const conversationId = pass.conversationId ?? APPEND_CONVERSATION;
        const run = (target: Target, i: number) =>
          pass.operation === 'append'
            ? target.append(conversationId, messages[i % messages.length] as NewMessage)
            : target.recent();
        const measuredInside = pass.callers === 1;
        // Warm-up, thrown away: JIT, connections, the objects' first load.
        for (const target of measuredInside ? [...targets, directTarget] : targets) {
          await timed(sizes.workerWarmup * pass.callers, pass.callers, (i) => run(target, sizes.workerAppends + i));
        }
        direct.timings.clear();
        const directConversation = `${pass.operation === 'append' ? conversationId : RECENT_CONVERSATION}-direct`;
        const rowsBefore = measuredInside ? await direct.rowsWritten(directConversation) : undefined;
        const measured = targets.map(() => ({ samples: [] as number[], ms: 0 }));
        const perRound = Math.ceil(total / sizes.workerRounds);
        const directPerRound = Math.ceil(sizes.workerDirect / sizes.workerRounds);
        for (let round = 0; round < sizes.workerRounds; round++) {
          const count = Math.min(perRound, total - round * perRound);
          for (const [t, target] of targets.entries()) {
            const taken = await timed(count, pass.callers, (i) => run(target, round * perRound + i));
            measured[t]?.samples.push(...taken.samples);
            if (measured[t] !== undefined) measured[t].ms += taken.ms;
          }
          if (!measuredInside) continue;
          const directCount = Math.min(directPerRound, sizes.workerDirect - round * directPerRound);
          for (let i = 0; i < directCount; i++) await run(directTarget, round * directPerRound + i);
        }
        const summaries = measured.map(({ samples }) => summarize(samples));
        const floorP50 = summaries[FLOOR]?.p50 ?? Number.NaN;
        const nodeP50 = summaries[NODE]?.p50 ?? Number.NaN;
        for (const [t, target] of targets.entries()) {
          const summary = summaries[t] as Summary;
          rows.push(
            row(pass.label, target.label, summary, {
              perSecond: (summary.n / (measured[t]?.ms ?? Number.NaN)) * 1000,
              vsFloor: t === FLOOR ? 1 : summary.p50 / floorP50,
              vsNode: t === WORKER ? summary.p50 / nodeP50 : null,
            }),
          );
        }
        if (rowsBefore === undefined) continue;
        const call = pass.operation === 'append' ? 'append' : 'range';
        inside[pass.operation] = direct.timings.get(call) ?? [];
        const rowsAfter = await direct.rowsWritten(directConversation);
        const calls = inside[pass.operation].length;
        const perCall = (after: number, before: number) => ((after - before) / calls).toFixed(1);
        const inRow = row(pass.label, directTarget.label, summarize(inside[pass.operation]), {
          perSecond: null,
          vsFloor: null,
          vsNode: null,
        });
        inRow.cells.rowsWritten = `${perCall(rowsAfter.conversation, rowsBefore.conversation)} + ${perCall(rowsAfter.directory, rowsBefore.directory)} directory`;
        rows.push({ ...inRow, note: `${call} calls; the clock: below` });
      }
      const lastInside = rows.findLast((measured) => measured.cells.target === directTarget.label);
      if (lastInside !== undefined) lastInside.detail = clockDetail(await clockCheck(floor), inside);
      return rows;
    } finally {
      for (const cleanup of cleanups) {
        try {
          await cleanup();
        } catch (error) {
          context.log(`worker: cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
  },
};

function row(
  operation: string,
  target: string,
  summary: Summary,
  figures: { perSecond: number | null; vsFloor: number | null; vsNode: number | null },
): Omit<Row, 'contender' | 'durability'> {
  return {
    status: 'ok',
    cells: {
      operation,
      target,
      n: summary.n,
      p50: summary.p50,
      p99: summary.p99,
      mean: summary.mean,
      ...figures,
    },
  };
}

function clientTarget(label: string, client: ReturnType<typeof chatStoreClient>): Target {
  return {
    label,
    append: (conversationId, message) => client.append(conversationId, message),
    recent: () => client.recent(RECENT_CONVERSATION, RECENT),
  };
}

/** The floor without the client: one `fetch` and its JSON, as bare as a caller can be. */
function fetchTarget(label: string, floor: RunningWorker, apiKey: string): Target {
  const headers = { accept: 'application/json', authorization: `Bearer ${apiKey}` };
  const base = `${floor.url}/v1/conversations`;
  return {
    label,
    async append(conversationId, message) {
      const response = await fetch(`${base}/${conversationId}/messages`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(message),
      });
      return response.json();
    },
    async recent() {
      return (await fetch(`${base}/${RECENT_CONVERSATION}/messages/recent?n=${RECENT}`, { headers })).json();
    },
  };
}

/** The history `recent` reads, through the target's batch path. */
async function prefill(sizes: Sizes, append: (batch: NewMessage[]) => Promise<unknown>): Promise<void> {
  for (let from = 0; from < sizes.workerHistory; from += 500) {
    await append(benchMessages(RECENT_CONVERSATION, from, Math.min(500, sizes.workerHistory - from)));
  }
}

/** A `fetch` that keeps the last answer to each of the client's two calls, for the floor to repeat. */
function capturing(captured: Partial<Record<Operation, CapturedAnswer>>): FetchFunction {
  return async (input, init) => {
    const response = await fetch(input, init);
    const operation: Operation = init?.method === 'POST' ? 'append' : 'recent';
    const copy = response.clone();
    captured[operation] = {
      status: copy.status,
      contentType: copy.headers.get('content-type') ?? 'application/json',
      body: await copy.text(),
    };
    return response;
  };
}

function clockDetail(clock: ClockCheck, inside: Record<Operation, number[]>): string {
  const zeros = (samples: number[]) => `${samples.filter((ms) => ms === 0).length} of ${samples.length}`;
  const still = clock.performanceMs === 0 && clock.dateMs === 0;
  const whole = [...inside.append, ...inside.recent, clock.performanceMs, clock.timerMs].every(Number.isInteger);
  const resolution = whole ? 'in whole ms' : "in the clock's resolution";
  return [
    `workerd's clock, checked in the bare Worker: a loop of ${clock.iterations.toLocaleString('en-US')} rounds took ${clock.wallMs.toFixed(1)} ms of wall time seen from Node; inside the Worker, performance.now() moved ${clock.performanceMs} ms and Date.now() ${clock.dateMs} ms during it, and performance.now() moved ${clock.timerMs} ms across an awaited 10 ms timer.`,
    still
      ? `The clock stood still while code ran and moved only across I/O (as deployed Workers do, against timing attacks): the object's Server-Timing is the time its call waited on what it awaits (an append of one message: its two calls to the directory, a claim in the message id's shard and an apply in the conversation's), ${resolution}, and none of its synchronous work (the JSON, planAppend, the SQLite transaction). Appends that read 0 ms: ${zeros(inside.append)}; reads (range, which awaits nothing): ${zeros(inside.recent)}.`
      : `The clock moved while code ran (local workerd does; deployed, Workers' clocks move only across I/O, against timing attacks, and the same header would count only the awaits): the object's Server-Timing here is its whole time per call, ${resolution} (an append: the JSON, planAppend, the SQLite transaction and its two awaited calls to the directory, a claim in the message id's shard and an apply in the conversation's); the mean of many is the better figure. Appends that read 0 ms: ${zeros(inside.append)}; reads (range): ${zeros(inside.recent)}.`,
  ].join('\n');
}
