/**
 * The archiving schedule of `chatstore serve`: when the store has an archive, a run at start and
 * then every `everyMinutes` (never two at once), moving what has been idle for the archive's
 * `archiveAfterDays`. A failed run is logged and the schedule goes on.
 */
import type { Logger } from 'pino';
import type { ChatStore } from '../store.js';

export interface ArchiveSchedule {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export function scheduleArchiving(store: ChatStore, everyMinutes: number, logger: Logger): ArchiveSchedule {
  let running: Promise<void> | undefined;
  const runOnce = (): void => {
    if (running !== undefined) return;
    running = store
      .archive()
      .then(
        (report) =>
          logger.info(
            {
              archived: report.archived.length,
              skipped: report.skipped.length,
              messages: report.messages,
              bytes: report.bytes,
              recovered: report.recovered,
              ms: report.ms,
              before: report.before,
            },
            'archiving run',
          ),
        (error: unknown) => logger.error({ err: error }, 'archiving run failed'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  runOnce();
  const timer = setInterval(runOnce, everyMinutes * 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
