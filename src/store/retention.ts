/** ChatStore's retention (docs/retention.md): hard-deletes every message older than a cutoff, everywhere. */
import { expireMessages } from '../retention.js';
import type { StoreCore } from './core.js';
import { cutoff, dryRunFlag } from './cutoff.js';
import type { RetentionOptions, RetentionReport } from './options.js';

export async function applyRetention(core: StoreCore, options: RetentionOptions): Promise<RetentionReport> {
  const before = cutoff(core, options, undefined);
  const dryRun = dryRunFlag(options.dryRun);
  const started = performance.now();
  const counts = await expireMessages(core.backend, { before, dryRun });
  return { before, dryRun, ...counts, ms: Math.round(performance.now() - started) };
}
