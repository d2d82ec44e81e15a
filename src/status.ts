/**
 * The forward-only status rule (invariant 4 in docs/ARCHITECTURE.md), in one place. Webhooks arrive out of order, so the
 * stored status never goes back: `queued < sent < delivered < read`; `failed` is terminal except that
 * a later `delivered` or `read` proves the message arrived. `statusAt` records, for each status
 * reported, the time of its first report, whether or not the status moved: a repeat (a webhook
 * retry, a late duplicate) never moves a recorded time, even when it names an earlier one, since the
 * first report of a status is when it happened. A status never reported (`read` without
 * `delivered`) gets no time: none is invented.
 */
import type { Message, MessageError, MessageStatus } from './model.js';

const RANK: Readonly<Record<Exclude<MessageStatus, 'failed'>, number>> = {
  queued: 0,
  sent: 1,
  delivered: 2,
  read: 3,
};

/**
 * The status that results from reporting `reported` on a message now in `current`.
 * @example nextStatus('read', 'sent') === 'read'; nextStatus('failed', 'delivered') === 'delivered'
 */
export function nextStatus(current: MessageStatus | undefined, reported: MessageStatus): MessageStatus {
  if (current === undefined) return reported;
  if (reported === 'failed') return current === 'queued' || current === 'sent' ? 'failed' : current;
  if (current === 'failed') return reported === 'delivered' || reported === 'read' ? reported : current;
  return RANK[reported] > RANK[current] ? reported : current;
}

/** The message after a status report at time `at`; `undefined` when nothing changes (a repeated report). */
export function applyStatus(
  message: Message,
  reported: MessageStatus,
  at: string,
  error: MessageError | undefined,
): Message | undefined {
  const status = nextStatus(message.status, reported);
  const known = message.statusAt?.[reported];
  const statusAt = known === undefined ? { ...message.statusAt, [reported]: at } : message.statusAt;
  const becameFailed = status === 'failed' && message.status !== 'failed';
  if (status === message.status && known !== undefined) return undefined;
  const updated: Message = { ...message, status };
  if (statusAt !== undefined) updated.statusAt = statusAt;
  if (becameFailed && error !== undefined) updated.error = error;
  return updated;
}
