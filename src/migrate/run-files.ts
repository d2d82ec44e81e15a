/**
 * A migration run's folder, `<runsDir>/<runId>/`: `run.json` (what was asked, and the state),
 * `checkpoint.json` (how many of the source's conversations are done, and the counts so far),
 * `touched.jsonl` (each conversation the run wrote to, noted before its first write, and whether it
 * existed before: what a rollback needs), and the reports. Writes replace a file whole (write, then
 * rename), so a killed run leaves each file as it was or as it became, never half-written.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatStoreError } from '../errors.js';
import type { LayoutName, SourceError } from './source.js';

/** Where runs keep their folders unless told otherwise: beside the default SQLite file. */
export const DEFAULT_RUNS_DIR = './data/migrations';

export type RunState = 'running' | 'done' | 'dry-run' | 'rolled-back';

export interface RunRecord {
  id: string;
  from: string;
  layout: LayoutName;
  state: RunState;
  startedAt: string;
  finishedAt?: string;
  options: { since?: string; normalizePhone: boolean };
}

export interface Checkpoint {
  /** Conversations of the source, in its order, that are fully written. */
  conversationsDone: number;
  totals: Totals;
  /** The errors so far (the first 1,000) and their number. */
  errors?: SourceError[];
  errorCount?: number;
}

/** Counts of a run (see `MigrationReport`). */
export interface Totals {
  /** Conversations of the source. */
  conversations: number;
  /** Conversations with a message in the store (stored by this run or already there). */
  conversationsStored: number;
  sourceMessages: number;
  stored: number;
  alreadyStored: number;
  duplicatesInSource: number;
  beforeSince: number;
  failed: number;
}

export function emptyTotals(): Totals {
  return {
    conversations: 0,
    conversationsStored: 0,
    sourceMessages: 0,
    stored: 0,
    alreadyStored: 0,
    duplicatesInSource: 0,
    beforeSince: 0,
    failed: 0,
  };
}

export interface Touched {
  conversationId: string;
  /** The conversation was not in the store before the run wrote to it. */
  created: boolean;
}

export class RunFiles {
  readonly dir: string;

  constructor(
    readonly runsDir: string,
    readonly id: string,
  ) {
    this.dir = join(runsDir, id);
  }

  /** A new run's folder, under a new id (time first, so the folders list in order). */
  static create(runsDir: string): RunFiles {
    const id = `${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
    const files = new RunFiles(runsDir, id);
    mkdirSync(files.dir, { recursive: true });
    return files;
  }

  /** An existing run's folder; `NOT_FOUND` when there is none. */
  static open(runsDir: string, id: string): RunFiles {
    const files = new RunFiles(runsDir, id);
    if (!/^[\w.-]+$/.test(id) || !existsSync(join(files.dir, 'run.json'))) {
      throw new ChatStoreError('NOT_FOUND', `no migration run ${id} in ${runsDir}`);
    }
    return files;
  }

  /** The newest run from `from` that did not finish, if any. */
  static unfinished(runsDir: string, from: string): RunFiles | undefined {
    if (!existsSync(runsDir)) return undefined;
    const ids = readdirSync(runsDir).sort().reverse();
    for (const id of ids) {
      const path = join(runsDir, id, 'run.json');
      if (!existsSync(path)) continue;
      const run = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
      if (run.from === from && run.state === 'running') return new RunFiles(runsDir, id);
    }
    return undefined;
  }

  get run(): RunRecord {
    return JSON.parse(readFileSync(join(this.dir, 'run.json'), 'utf8')) as RunRecord;
  }

  set run(record: RunRecord) {
    this.#replace('run.json', `${JSON.stringify(record, null, 2)}\n`);
  }

  get checkpoint(): Checkpoint {
    const path = join(this.dir, 'checkpoint.json');
    if (!existsSync(path)) return { conversationsDone: 0, totals: emptyTotals() };
    return JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
  }

  set checkpoint(checkpoint: Checkpoint) {
    this.#replace('checkpoint.json', JSON.stringify(checkpoint));
  }

  /** Noted before the conversation's first write, so a rollback finds it even if the run is killed right after. */
  touch(touched: Touched): void {
    appendFileSync(join(this.dir, 'touched.jsonl'), `${JSON.stringify(touched)}\n`);
  }

  /** Every conversation the run wrote to, the first note of each. */
  touched(): Touched[] {
    const path = join(this.dir, 'touched.jsonl');
    if (!existsSync(path)) return [];
    const seen = new Map<string, Touched>();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let touched: Touched;
      try {
        touched = JSON.parse(line) as Touched;
      } catch {
        continue; // the last line of a run killed while writing it
      }
      if (!seen.has(touched.conversationId)) seen.set(touched.conversationId, touched);
    }
    return [...seen.values()];
  }

  writeReport(name: string, text: string): string {
    this.#replace(name, text);
    return join(this.dir, name);
  }

  #replace(name: string, text: string): void {
    const path = join(this.dir, name);
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  }
}
