/**
 * The upkeep schedule of `chatstore serve`: a run at start and then every `everyMinutes` (never two
 * at once) of archiving (when the store has an archive: what has been idle for its
 * `archiveAfterDays`) and of retention (when `retentionDays` is set: messages older than that are
 * deleted). A failed run is logged and the schedule goes on.
 */
import type { Logger } from 'pino';
import type { ChatStore } from '../store.js';

export interface MaintenancePlan {
  everyMinutes: number;
  archive: boolean;
  retentionDays?: number;
}

export interface MaintenanceSchedule {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export function scheduleMaintenance(store: ChatStore, plan: MaintenancePlan, logger: Logger): MaintenanceSchedule {
  let running: Promise<void> | undefined;
  const archiving = async (): Promise<void> => {
    const report = await store.archive();
    const { archived, skipped, messages, bytes, recovered, ms, before } = report;
    logger.info(
      { archived: archived.length, skipped: skipped.length, messages, bytes, recovered, ms, before },
      'archiving run',
    );
  };
  const retention = async (days: number): Promise<void> => {
    logger.info(await store.applyRetention({ olderThanDays: days }), 'retention run');
  };
  const runOnce = (): void => {
    if (running !== undefined) return;
    running = (async () => {
      if (plan.archive)
        await archiving().catch((error: unknown) => logger.error({ err: error }, 'archiving run failed'));
      if (plan.retentionDays !== undefined) {
        const days = plan.retentionDays;
        await retention(days).catch((error: unknown) => logger.error({ err: error }, 'retention run failed'));
      }
    })().finally(() => {
      running = undefined;
    });
  };
  runOnce();
  const timer = setInterval(runOnce, plan.everyMinutes * 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
