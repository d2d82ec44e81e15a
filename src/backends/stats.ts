/** Stats counted in code: where an engine that counts in code starts, and how it counts a message. */
import type { Message, Stats } from '../model.js';

export function emptyStats(): Stats {
  return {
    total: 0,
    incoming: 0,
    outgoing: 0,
    withMedia: 0,
    commands: 0,
    adminCommands: 0,
    failed: 0,
    deleted: 0,
    byRole: { user: 0, assistant: 0, system: 0, tool: 0 },
    conversations: 0,
  };
}

/** Counts one stored message (soft-deleted ones only as `deleted`). */
export function countMessage(stats: Stats, message: Message): void {
  if (message.deletedAt !== undefined) {
    stats.deleted += 1;
    return;
  }
  stats.total += 1;
  stats[message.direction] += 1;
  stats.byRole[message.role] += 1;
  if (message.media !== undefined) stats.withMedia += 1;
  if (message.command !== undefined) stats.commands += 1;
  if (message.command?.admin === true) stats.adminCommands += 1;
  if (message.status === 'failed') stats.failed += 1;
}

/** Adds `more` into `stats`. */
export function addStats(stats: Stats, more: Stats): Stats {
  for (const key of [
    'total',
    'incoming',
    'outgoing',
    'withMedia',
    'commands',
    'adminCommands',
    'failed',
    'deleted',
    'conversations',
  ] as const) {
    stats[key] += more[key];
  }
  for (const role of Object.keys(stats.byRole) as (keyof Stats['byRole'])[]) stats.byRole[role] += more.byRole[role];
  return stats;
}
