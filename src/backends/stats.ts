/** Stats counted in code: where an engine that counts in code starts, and how it counts a message. */
import type { Conversation, Message, Stats } from '../model.js';

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
    byChannel: {},
  };
}

/** A row of per-channel counts as the SQL engines read them (numbers, or numeric strings). */
export interface ChannelStatsRow {
  channel: string;
  conversations: number | string;
  messages: number | string;
}

/** `Stats.byChannel` from per-channel rows; a channel whose conversations are all deleted and empty is left out. */
export function channelCounts(rows: ChannelStatsRow[]): Stats['byChannel'] {
  const byChannel: Stats['byChannel'] = {};
  for (const { channel, conversations, messages } of rows) {
    if (Number(conversations) === 0 && Number(messages) === 0) continue;
    byChannel[channel] = { conversations: Number(conversations), messages: Number(messages) };
  }
  return byChannel;
}

/**
 * Counts a conversation, with `messages` of its messages not deleted, under its channel (nothing
 * when it has none, or when it is deleted and holds no live message).
 */
export function countChannel(
  stats: Stats,
  conversation: Pick<Conversation, 'channel' | 'deletedAt'>,
  messages: number,
): void {
  const { channel } = conversation;
  const live = conversation.deletedAt === undefined ? 1 : 0;
  if (channel === undefined || (live === 0 && messages === 0)) return;
  const entry = stats.byChannel[channel] ?? { conversations: 0, messages: 0 };
  entry.conversations += live;
  entry.messages += messages;
  stats.byChannel[channel] = entry;
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
  for (const [channel, counts] of Object.entries(more.byChannel)) {
    const entry = stats.byChannel[channel] ?? { conversations: 0, messages: 0 };
    entry.conversations += counts.conversations;
    entry.messages += counts.messages;
    stats.byChannel[channel] = entry;
  }
  return stats;
}
