/**
 * Migrations started over HTTP (`POST /admin/storage/migrate`): each runs in the background in this
 * process, and `GET` shows its progress and, once it ends, its report. The same `migrate` as the
 * CLI's; a job outlives its request, not the process (a run stopped with the process is resumed
 * with `resume`).
 */
import { isChatStoreError } from '../errors.js';
import type { ChatStore } from '../store.js';
import { type MigrationOptions, type MigrationProgress, migrate } from './migrate.js';
import type { MigrationReport } from './report.js';
import { DEFAULT_RUNS_DIR } from './run-files.js';

export type MigrationRequest = Omit<MigrationOptions, 'runsDir' | 'onProgress' | 'onStart'>;

export interface MigrationJob {
  runId: string;
  state: 'running' | 'done' | 'failed';
  startedAt: string;
  progress?: MigrationProgress;
  report?: MigrationReport;
  /** Why a failed run stopped (an unreachable engine, say); resume it once the cause is fixed. */
  error?: { code: string; message: string };
}

export class MigrationJobs {
  readonly #jobs = new Map<string, MigrationJob>();

  constructor(
    readonly store: ChatStore,
    readonly runsDir: string = DEFAULT_RUNS_DIR,
  ) {}

  /** Starts a run; resolves once it has its id (or rejects when the request is refused before that). */
  start(request: MigrationRequest): Promise<MigrationJob> {
    return new Promise((resolve, reject) => {
      let job: MigrationJob | undefined;
      migrate(this.store, {
        ...request,
        runsDir: this.runsDir,
        onStart: (runId) => {
          job = { runId, state: 'running', startedAt: new Date().toISOString() };
          this.#jobs.set(runId, job);
          resolve({ ...job });
        },
        onProgress: (progress) => {
          if (job !== undefined) job.progress = progress;
        },
      }).then(
        (report) => {
          if (job === undefined) return;
          job.state = 'done';
          job.report = report;
        },
        (error: unknown) => {
          if (job === undefined) {
            reject(error);
            return;
          }
          job.state = 'failed';
          job.error = isChatStoreError(error)
            ? { code: error.code, message: error.message }
            : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
        },
      );
    });
  }

  get(runId: string): MigrationJob | undefined {
    const job = this.#jobs.get(runId);
    return job === undefined ? undefined : { ...job };
  }

  /** The jobs of this process, newest first. */
  list(): MigrationJob[] {
    return [...this.#jobs.values()].reverse().map((job) => ({ ...job }));
  }
}
