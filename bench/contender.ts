/**
 * What the workloads drive: chatstore on an engine, the raw driver floor, or one of the naive
 * designs chatstore replaces. Every workload opens a fresh instance (fresh file, fresh key prefix)
 * so no workload's data affects another's numbers.
 */
import type { TierStats } from '../src/backend.js';
import type { JsonObject, NewMessage } from '../src/model.js';

/** The workloads, in the order they run. */
export const WORKLOADS = [
  'W1',
  'W2',
  'W3',
  'W4',
  'W5',
  'W6',
  'W1L',
  'W7',
  'http',
  'degrade',
  'archive',
  'migrate',
  'webhook',
  'worker',
] as const;
export type WorkloadId = (typeof WORKLOADS)[number];

/** Workloads that run only when named in `--workloads` (long, or needing more than the store). */
export const OPT_IN_WORKLOADS: readonly WorkloadId[] = [
  'W1L',
  'W7',
  'http',
  'degrade',
  'archive',
  'migrate',
  'webhook',
  'worker',
];

/** What a run without `--workloads` runs: W1–W6. */
export const DEFAULT_WORKLOADS: readonly WorkloadId[] = WORKLOADS.filter((id) => !OPT_IN_WORKLOADS.includes(id));

/** What reads give back: enough to check order and identity. chatstore's `Message` fits. */
export interface ReadMessage {
  seq: number;
  content?: string;
  metadata?: JsonObject;
}

/** One page of a walk backwards from the newest message; `next` continues it. */
export interface PageBack {
  messages: ReadMessage[];
  next?: string | number;
}

/** An open contender over its own, fresh storage. */
export interface ContenderInstance {
  /** One message, acknowledged when the promise resolves. */
  append(conversationId: string, message: NewMessage): Promise<void>;
  /** Up to 1,000 messages through the contender's batch path (one call, one commit where it can). */
  appendBatch(conversationId: string, messages: NewMessage[]): Promise<void>;
  /** The newest `n`, oldest first. */
  lastN(conversationId: string, n: number): Promise<ReadMessage[]>;
  /** The `n` messages before `cursor` (from the newest when absent), newest first. */
  pageBack(conversationId: string, cursor: string | number | undefined, n: number): Promise<PageBack>;
  /** Everything stored in the conversation, in the order the contender keeps it. */
  readAll(conversationId: string): Promise<ReadMessage[]>;
  /** Full-text search; resolves to the number of hits returned (at most `limit`). */
  search?(query: string, limit: number): Promise<number>;
  /** The storage everything stored so far takes; absent when the contender cannot tell (memory, Redis). */
  footprint?(): Promise<Footprint>;
  /** chatstore: the figures of the tiers in front of the engine, nearest first (W7's hit ratio). */
  tiers?(): TierStats[];
  close(): Promise<void>;
}

/**
 * What a contender's data takes, measured while it is open: SQLite, the database file with its WAL
 * and shared-memory file; PostgreSQL, every table of the workspace's schema with its TOAST and
 * indexes (`pg_total_relation_size`); MySQL, InnoDB `data_length + index_length` after ANALYZE.
 */
export interface Footprint {
  bytes: number;
  /** What the bytes are made of, one line per table (PostgreSQL: tuples and every index's size). */
  detail?: string;
}

/** Where an instance may put its data; the runner removes both afterwards. */
export interface Workspace {
  /** A fresh, empty directory. */
  dir: string;
  /** A fresh Redis key prefix under `chatstore-bench:`. */
  keyPrefix: string;
  redisUrl: string;
}

/** The table's word for a cell the contender does not run, and why. */
export interface NotRun {
  status: 'n/a' | 'skipped';
  reason: string;
}

/** A contender as the runner lists it. */
export interface Contender {
  /** Unique within a run, e.g. `chatstore sqlite FULL`. */
  name: string;
  kind: 'chatstore' | 'raw' | 'naive';
  /** The engine underneath: `sqlite`, `memory`, `redis`, `file`. */
  engine: string;
  /** Short label for tables (`fsync/commit`, `no fsync`, `none`). */
  durabilityLabel: string;
  /** What an acknowledged write survives, in a sentence. */
  durability: string;
  /** Time cap for one workload, in ms (naive designs slow down with history; they get capped). */
  capMs?: number;
  /** Largest data size a workload may use, by workload (a linear-scan engine gets less). */
  maxSize?: Partial<Record<WorkloadId, number>>;
  /** Workloads this contender does not run. */
  notRun?: Partial<Record<WorkloadId, NotRun>>;
  open(workspace: Workspace): Promise<ContenderInstance>;
  /** chatstore contenders only: the store URL for a workspace (the HTTP workload serves it). */
  storeUrl?(workspace: Workspace): string;
}
