/**
 * The shape every workload shares: what it gets (sizes, a way to open a contender on fresh
 * storage) and what it gives back (rows of a table). Plus the fill helper several workloads use.
 */
import type { Contender, ContenderInstance, WorkloadId, Workspace } from './contender.js';
import { benchMessages } from './data.js';
import { now } from './harness.js';

/** Every size and budget of a run. `--quick` uses tiny ones so CI can run the whole harness. */
export interface Sizes {
  /** W1: measured appends, after `w1Warmup` discarded ones. */
  w1Appends: number;
  w1Warmup: number;
  /** W1L (opt-in): appends over `w1lConversations` conversations, timed per block of `w1lBlock`; W1's warm-up first. */
  w1lAppends: number;
  w1lBlock: number;
  w1lConversations: number;
  /** W2: writers, and appends per writer, into one conversation. */
  w2Writers: number;
  w2PerWriter: number;
  /** W2's second round: the same writers over this many conversations. */
  w2SpreadConversations: number;
  /** W3: history sizes of one conversation, ascending; last-20 reads measured at each. */
  w3Sizes: number[];
  w3Reads: number;
  /** W4: messages paged back through, page size, measured passes (after one warm-up pass). */
  w4Messages: number;
  w4Page: number;
  w4Passes: number;
  /** W5: messages, spread evenly over conversations; measured queries. */
  w5Messages: number;
  w5Conversations: number;
  w5Queries: number;
  /** W6: messages imported into conversations, in batches of `w6Batch`. */
  w6Messages: number;
  w6Conversations: number;
  w6Batch: number;
  /** W7 (opt-in): conversations, messages in each, and reads drawn by a Zipf law. */
  w7Conversations: number;
  w7Messages: number;
  w7Reads: number;
  /** archive (opt-in): conversations archived, and messages in each. */
  archiveConversations: number;
  archiveMessages: number;
  /** migrate (opt-in): messages in the legacy sources, about 13 per customer. */
  migrateMessages: number;
  /** webhook (opt-in): deliveries of 100 messages measured, each against an append of the same. */
  webhookRequests: number;
  /** http (opt-in): concurrent connections, and measured seconds per server and operation. */
  httpConnections: number;
  httpSeconds: number;
  /** worker (opt-in): appends and reads per target, in interleaved rounds, after a warm-up of each. */
  workerAppends: number;
  workerReads: number;
  workerRounds: number;
  workerWarmup: number;
  /** worker: messages in the conversation the reads take the newest 20 of. */
  workerHistory: number;
  /** worker: callers appending at once in the concurrent pass (each awaiting its own appends). */
  workerCallers: number;
  /** worker: calls sent straight to the conversation's object per operation, for its Server-Timing. */
  workerDirect: number;
  /** Most time spent measuring one latency distribution (reads, queries), in ms. */
  sampleBudgetMs: number;
  /** A W3 fill projected to take longer than this (ms) is skipped and the table says how long it would take. */
  fillLimitMs: number;
  /** The W5 fill stops where the rest is projected to take longer than this (ms); the table says where. */
  w5FillLimitMs: number;
}

/** A table cell: a number (formatted by its column), text, or nothing measured. */
export type Cell = number | string | null;

export interface Column {
  key: string;
  label: string;
  /** Decimal places shown (default 0). */
  digits?: number;
}

/**
 * - ok: measured in full;
 * - capped: measured, but stopped early by a time cap or size limit (the note says which);
 * - n/a: the contender cannot do this; skipped: it could, but this run did not (the note says why);
 * - error: the contender failed (the note has the error).
 */
export type RowStatus = 'ok' | 'capped' | 'n/a' | 'skipped' | 'error';

export interface Row {
  contender: string;
  durability: string;
  status: RowStatus;
  note?: string;
  cells: Record<string, Cell>;
  /** Measurements behind the cells, one per step, kept in the JSON report (W1L: msg/s of every block). */
  series?: Record<string, number[]>;
  /** Lines printed under the table (W1L on PostgreSQL: tuples and index sizes per table). */
  detail?: string;
}

export interface WorkloadResult {
  id: WorkloadId;
  title: string;
  /** What was measured, in one sentence, printed above the table. */
  method: string;
  columns: Column[];
  rows: Row[];
}

/** A contender open on fresh storage; `dispose` closes it and removes its data. */
export interface Opened {
  instance: ContenderInstance;
  dispose(): Promise<void>;
}

export interface WorkloadContext {
  sizes: Sizes;
  quick: boolean;
  open(contender: Contender): Promise<Opened>;
  /** A fresh workspace without opening anything in it, for workloads that open the store themselves. */
  workspace(): Promise<{ workspace: Workspace; dispose(): Promise<void> }>;
  /** Progress for the person watching (stderr). */
  log(line: string): void;
}

/** One workload: a title, its columns, and how to measure one contender (one or more rows). */
export interface Workload {
  id: WorkloadId;
  title: string;
  method(sizes: Sizes): string;
  columns: Column[];
  run(contender: Contender, context: WorkloadContext): Promise<Omit<Row, 'contender' | 'durability'>[]>;
}

/** When a capped contender must stop, as a `performance.now()` time. */
export function deadlineFor(contender: Contender): number {
  return contender.capMs === undefined ? Number.POSITIVE_INFINITY : now() + contender.capMs;
}

/** "20 s" for a cap in ms. */
export function capText(contender: Contender): string {
  return `${Math.round((contender.capMs ?? 0) / 1000)} s`;
}

/** How far a fill got. */
export interface FillResult {
  filled: number;
  /** Milliseconds spent inside the contender's batch calls (generating the data is not counted). */
  ms: number;
  stoppedBy?: 'deadline' | 'projection';
}

/**
 * Appends messages `from` … `to - 1` of a conversation through the batch path, timing only the
 * contender's calls. Stops early at `deadline`, or (after the first tenth, when `limitMs` is given)
 * when the rate so far projects the rest to take longer than `limitMs`.
 * @example const { filled, ms } = await fill(instance, 'w3', 0, 10_000, { batch: 1000 });
 */
export async function fill(
  instance: ContenderInstance,
  conversationId: string,
  from: number,
  to: number,
  options: { batch: number; deadline?: number; limitMs?: number },
): Promise<FillResult> {
  let filled = 0;
  let ms = 0;
  const total = to - from;
  for (let start = from; start < to; start += options.batch) {
    if (now() > (options.deadline ?? Number.POSITIVE_INFINITY)) return { filled, ms, stoppedBy: 'deadline' };
    if (options.limitMs !== undefined && filled >= total / 10 && filled > 0) {
      const projected = (ms / filled) * (total - filled);
      if (projected > options.limitMs) return { filled, ms, stoppedBy: 'projection' };
    }
    const batch = benchMessages(conversationId, start, Math.min(options.batch, to - start));
    const began = now();
    await instance.appendBatch(conversationId, batch);
    ms += now() - began;
    filled += batch.length;
  }
  return { filled, ms };
}

/** "1.2 min", "40 s" */
export function duration(ms: number): string {
  return ms >= 90_000 ? `${(ms / 60_000).toFixed(1)} min` : `${Math.round(ms / 1000)} s`;
}

/** "85.3 MiB", "16 KiB", "512 B" */
export function byteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 || value >= 100 ? `${Math.round(value)} ${units[unit]}` : `${value.toFixed(1)} ${units[unit]}`;
}

/** "1 table", "12 tables" */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** "100k", "1M", "500" */
export function count(value: number): string {
  if (value >= 1_000_000 && value % 100_000 === 0) return `${value / 1_000_000}M`;
  if (value >= 1000 && value % 100 === 0) return `${value / 1000}k`;
  return String(value);
}
