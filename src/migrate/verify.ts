/**
 * `--verify`: the source read again and prepared as the run prepared it, each conversation compared
 * with the store: every expected message present (by its deterministic id), and a SHA-256 over id,
 * role, text, time and deletion of those messages, in the source's order and in the store's seq order. Other
 * messages the store holds in the conversation (a live bot's, an earlier run's) are not compared.
 */
import { createHash } from 'node:crypto';
import type { ChatStore } from '../store.js';
import { type PreparedConversation, type PrepareOptions, prepareConversation } from './conversation.js';
import type { OpenedSource } from './open-source.js';
import { everyMessage } from './read-back.js';

export interface Verification {
  ok: boolean;
  conversations: number;
  messages: number;
  /** The first 1,000 conversations that differ. */
  differences: { conversationId: string; source: number; store: number; reason: string }[];
}

const LISTED = 1000;

export async function verifyMigration(
  store: ChatStore,
  source: OpenedSource,
  prepare: PrepareOptions,
): Promise<Verification> {
  const result: Verification = { ok: true, conversations: 0, messages: 0, differences: [] };
  for await (const item of source.items) {
    if (item.kind !== 'conversation') continue;
    const prepared = prepareConversation(source.layout, item.conversation, prepare);
    if (prepared.messages.length === 0) continue;
    result.conversations += 1;
    result.messages += prepared.messages.length;
    const { stored, reason } = await compareConversation(store, prepared);
    if (reason === undefined) continue;
    result.ok = false;
    if (result.differences.length < LISTED) {
      result.differences.push({
        conversationId: prepared.conversationId,
        source: prepared.messages.length,
        store: stored,
        reason,
      });
    }
  }
  return result;
}

/**
 * One prepared conversation against the store: how many of its messages the store holds, and what
 * differs (undefined when nothing does).
 */
export async function compareConversation(
  store: ChatStore,
  prepared: PreparedConversation,
): Promise<{ stored: number; reason: string | undefined }> {
  const expected = new Set(prepared.messages.map((message) => message.id));
  const deletedInSource = new Set(prepared.deleted);
  const stored = (await everyMessage(store, prepared.conversationId)).filter((message) => expected.has(message.id));
  const reason =
    stored.length !== expected.size
      ? `${expected.size - stored.length} of ${expected.size} missing`
      : checksum(prepared.messages.map((m) => ({ ...m, deleted: deletedInSource.has(m.id) }))) !==
          checksum(stored.map((m) => ({ ...m, deleted: m.deletedAt !== undefined })))
        ? 'text, time, deletion or order differs'
        : undefined;
  return { stored: stored.length, reason };
}

function checksum(
  messages: readonly { id: string; role?: string; content?: string; createdAt?: string; deleted: boolean }[],
): string {
  const hash = createHash('sha256');
  for (const m of messages) {
    hash.update(`${m.id}\u0000${m.role}\u0000${m.content}\u0000${m.createdAt}\u0000${m.deleted}\u0001`);
  }
  return hash.digest('hex');
}
