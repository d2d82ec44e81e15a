/** The cutoff of an archiving or retention run: `before` as given, else `olderThanDays` before now. */
import { ChatStoreError } from '../errors.js';
import type { StoreCore } from './core.js';

const DAY_MS = 86_400_000;

export function cutoff(
  core: StoreCore,
  options: { before?: string | Date | number; olderThanDays?: number },
  defaultDays: number | undefined,
): string {
  if (options.before !== undefined && options.olderThanDays !== undefined) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'give before or olderThanDays, not both', { path: 'before' });
  }
  if (options.before !== undefined) return core.validate.time(options.before, 'before');
  const days = options.olderThanDays ?? defaultDays;
  if (days === undefined) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'olderThanDays or before is required', { path: 'olderThanDays' });
  }
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 0) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'olderThanDays must be a whole number of days', {
      path: 'olderThanDays',
    });
  }
  return new Date(Date.parse(core.timestamp()) - days * DAY_MS).toISOString();
}

export function dryRunFlag(value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ChatStoreError('INVALID_ARGUMENT', 'dryRun must be true or false', { path: 'dryRun' });
  }
  return value === true;
}
