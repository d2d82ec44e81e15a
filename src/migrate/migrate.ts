/**
 * A migration run: the source's conversations, one at a time, prepared (`conversation.ts`) and
 * appended in batches, each message under its deterministic id and external id, so anything stored
 * already (by an earlier run, or before this run was killed) comes back as a duplicate and is not
 * stored twice. Progress is checkpointed about once a second; `resume` skips what the checkpoint
 * says is done and redoes the rest. The report counts what the source held and what the store has.
 */
import { ChatStoreError, isChatStoreError } from '../errors.js';
import { CHANNEL } from '../input-schemas.js';
import type { NewMessage } from '../model.js';
import type { ChatStore } from '../store.js';
import { normalizeTime } from '../time.js';
import { type PreparedConversation, type PrepareOptions, prepareConversation } from './conversation.js';
import { deleteMigratedSource, type SourceDeletion } from './delete-source.js';
import { openSource } from './open-source.js';
import { type MigrationReport, reportOf } from './report.js';
import { type Checkpoint, DEFAULT_RUNS_DIR, emptyTotals, RunFiles, type Totals } from './run-files.js';
import type { SourceError } from './source.js';
import { verifyMigration } from './verify.js';

export interface MigrationOptions {
  /** A file (`chat_logs.json`, a KV export) or a Redis URL. */
  from: string;
  /** The source's layout; detected from a file's first bytes when absent. */
  layout?: string;
  /** Read and convert everything, write nothing; the report says what would be stored. */
  dryRun?: boolean;
  /** Go on with this run (an id), or with the newest unfinished run from the same source (`true`). */
  resume?: string | boolean;
  /** After the run, read the source and the store again and compare each conversation. */
  verify?: boolean;
  /**
   * After a complete run whose verification (implied) passed, delete from the source what it moved:
   * each conversation that still matches the store (`delete-source.ts`). Not with `dryRun` or `since`.
   */
  deleteSource?: boolean;
  /** Only messages at or after this time. */
  since?: string | number | Date;
  /** Conversation ids as E.164 phone numbers where the keys look like ones (`normalizedPhone`). */
  normalizePhone?: boolean;
  /** The channel (`whatsapp`, `sms`…) of the conversations the run creates; the source's layouts do not record one. */
  channel?: string;
  /** Where runs keep their folders (default `./data/migrations`). */
  runsDir?: string;
  /** Messages per append (default 500). */
  batchSize?: number;
  /** Called at most every 200 ms while the run goes on, and once at its end. */
  onProgress?: (progress: MigrationProgress) => void;
  /** Called once the run has its id and folder, before anything is written. */
  onStart?: (runId: string) => void;
}

export interface MigrationProgress {
  runId: string;
  conversations: number;
  messages: number;
  errors: number;
  /** How much of the source has been read (bytes of a file), when known. */
  read: { done: number; total: number } | null;
  elapsedMs: number;
}

/** The most errors a report lists one by one (all are counted). */
const LISTED_ERRORS = 1000;
const CHECKPOINT_EVERY_MS = 1000;
const PROGRESS_EVERY_MS = 200;
const DEFAULT_BATCH = 500;

export async function migrate(store: ChatStore, options: MigrationOptions): Promise<MigrationReport> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const runsDir = options.runsDir ?? DEFAULT_RUNS_DIR;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'batchSize must be an integer from 1 to 1000', { path: 'batchSize' });
  }
  if (options.channel !== undefined && !CHANNEL.test(options.channel)) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'channel must be a lowercase token such as whatsapp or sms', {
      path: 'channel',
    });
  }
  const since = options.since === undefined ? undefined : sinceOf(options.since);
  if (options.deleteSource === true && (options.dryRun === true || since !== undefined)) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      'deleteSource deletes what a run moved: not with dryRun (nothing moves) nor since (what is before it stays behind)',
      { path: 'deleteSource' },
    );
  }
  const source = openSource(options.from, options.layout);
  const files = runFilesFor(runsDir, options);
  const resumed = files.checkpoint.conversationsDone > 0;
  const prior = files.checkpoint;
  const previous = options.resume ? safeRun(files) : undefined;
  files.run = {
    id: files.id,
    from: options.from,
    layout: source.layout,
    state: options.dryRun === true ? 'dry-run' : 'running',
    startedAt: previous?.startedAt ?? startedAt,
    options: {
      ...(since === undefined ? {} : { since: new Date(since).toISOString() }),
      normalizePhone: options.normalizePhone === true,
    },
  };
  options.onStart?.(files.id);
  const prepare: PrepareOptions = {
    ...(since === undefined ? {} : { since }),
    defaultTime: Date.parse(files.run.startedAt),
    normalizePhone: options.normalizePhone === true,
    runId: files.id,
  };
  const totals: Totals = resumed ? prior.totals : emptyTotals();
  const errors: SourceError[] = resumed ? [...(prior.errors ?? [])] : [];
  let errorCount = resumed ? (prior.errorCount ?? errors.length) : 0;
  const noteError = (error: SourceError): void => {
    errorCount += 1;
    if (errors.length < LISTED_ERRORS) errors.push(error);
  };

  let index = 0;
  let lastCheckpoint = performance.now();
  let lastProgress = 0;
  const progress = (force: boolean): void => {
    const now = performance.now();
    if (options.onProgress === undefined || (!force && now - lastProgress < PROGRESS_EVERY_MS)) return;
    lastProgress = now;
    options.onProgress({
      runId: files.id,
      conversations: totals.conversations,
      messages: totals.stored + totals.alreadyStored,
      errors: errorCount,
      read: source.progress(),
      elapsedMs: now - started,
    });
  };
  const checkpoint = (): void => {
    files.checkpoint = { conversationsDone: index, totals, errors, errorCount } satisfies Checkpoint;
    lastCheckpoint = performance.now();
  };

  for await (const item of source.items) {
    if (item.kind === 'error') {
      // An error before the checkpoint was counted by the run that passed it.
      if (index >= prior.conversationsDone || !resumed) noteError(item.error);
      continue;
    }
    index += 1;
    if (resumed && index <= prior.conversationsDone) continue;
    const prepared = withChannel(prepareConversation(source.layout, item.conversation, prepare), options.channel);
    for (const error of prepared.errors) noteError(error);
    totals.conversations += 1;
    totals.sourceMessages += prepared.sourceMessages;
    totals.duplicatesInSource += prepared.duplicatesInSource;
    totals.beforeSince += prepared.beforeSince;
    totals.failed += prepared.errors.length;
    if (options.dryRun === true) {
      totals.stored += prepared.messages.length;
      if (prepared.messages.length > 0) totals.conversationsStored += 1;
    } else await writeConversation(store, files, prepared, batchSize, totals, noteError);
    if (options.dryRun !== true && performance.now() - lastCheckpoint >= CHECKPOINT_EVERY_MS) checkpoint();
    progress(false);
  }
  if (options.dryRun !== true) checkpoint();
  progress(true);

  const verification =
    (options.verify === true || options.deleteSource === true) && options.dryRun !== true
      ? await verifyMigration(store, openSource(options.from, source.layout), prepare)
      : undefined;
  let sourceDeletion: SourceDeletion | undefined;
  if (options.deleteSource === true) {
    sourceDeletion =
      errorCount > 0
        ? { conversations: 0, records: 0, kept: totals.conversations, skipped: 'not everything arrived' }
        : verification?.ok !== true
          ? { conversations: 0, records: 0, kept: totals.conversations, skipped: 'the verification found differences' }
          : await deleteMigratedSource(store, openSource(options.from, source.layout), prepare);
  }
  const finishedAt = new Date().toISOString();
  if (options.dryRun !== true) files.run = { ...files.run, state: 'done', finishedAt };
  return reportOf(files, {
    from: options.from,
    layout: source.layout,
    dryRun: options.dryRun === true,
    resumed,
    startedAt: files.run.startedAt,
    finishedAt,
    durationMs: performance.now() - started,
    totals,
    errors,
    errorCount,
    verification,
    sourceDeletion,
  });
}

/** The run's folder: the one to resume, or a new one. */
function runFilesFor(runsDir: string, options: MigrationOptions): RunFiles {
  if (typeof options.resume === 'string') {
    const files = RunFiles.open(runsDir, options.resume);
    if (files.run.from !== options.from) {
      throw new ChatStoreError(
        'INVALID_ARGUMENT',
        `run ${options.resume} migrated ${files.run.from}, not ${options.from}`,
        {
          path: 'resume',
        },
      );
    }
    return files;
  }
  if (options.resume === true && options.dryRun !== true) {
    const unfinished = RunFiles.unfinished(runsDir, options.from);
    if (unfinished !== undefined) return unfinished;
  }
  return RunFiles.create(runsDir);
}

function safeRun(files: RunFiles): { startedAt: string } | undefined {
  try {
    return files.run;
  } catch {
    return undefined;
  }
}

/**
 * One conversation's messages, in batches. A batch the store refuses as invalid is sent again one
 * message at a time, so only the bad messages fail (each an error with its source key); an engine
 * that is unreachable stops the run, to be resumed.
 */
function withChannel(prepared: PreparedConversation, channel: string | undefined): PreparedConversation {
  return channel === undefined ? prepared : { ...prepared, attributes: { ...prepared.attributes, channel } };
}

async function writeConversation(
  store: ChatStore,
  files: RunFiles,
  prepared: PreparedConversation,
  batchSize: number,
  totals: Totals,
  noteError: (error: SourceError) => void,
): Promise<void> {
  if (prepared.messages.length === 0) return;
  const existing = await store.getConversation(prepared.conversationId);
  files.touch({ conversationId: prepared.conversationId, created: existing === undefined });
  let arrived = false;
  const append = async (messages: NewMessage[]): Promise<void> => {
    const results = await store.append(
      prepared.conversationId,
      messages,
      prepared.attributes === undefined ? {} : { conversation: prepared.attributes },
    );
    arrived ||= results.length > 0;
    for (const result of results) {
      if (result.duplicate) totals.alreadyStored += 1;
      else totals.stored += 1;
    }
  };
  for (let start = 0; start < prepared.messages.length; start += batchSize) {
    const batch = prepared.messages.slice(start, start + batchSize);
    try {
      await append(batch);
    } catch (error) {
      if (!isChatStoreError(error) || error.code !== 'INVALID_ARGUMENT') throw error;
      for (const message of batch) {
        try {
          await append([message]);
        } catch (single) {
          if (!isChatStoreError(single) || single.code !== 'INVALID_ARGUMENT') throw single;
          totals.failed += 1;
          noteError({ source: message.externalId, reason: single.message });
        }
      }
    }
  }
  // Deleted in the source: soft-deleted here too (again after a resume: deleting twice changes nothing).
  for (const id of prepared.deleted) await store.delete(id);
  if (arrived) totals.conversationsStored += 1;
}

function sinceOf(value: string | number | Date): number {
  const iso = normalizeTime(value);
  if (iso === undefined) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'since must be an ISO-8601 time, a Date or epoch milliseconds', {
      path: 'since',
    });
  }
  return Date.parse(iso);
}
