/**
 * The bindings a chatstore Worker declares (see docs/cloudflare.md), and the one place that says
 * which object holds what: a conversation's object is named by the conversation's id; the
 * directory is `CHATSTORE_DIRECTORY_SHARDS` objects (`shard-0` …), a conversation's copy in the
 * shard its id hashes to, and a message id's claim in the shard the message id hashes to.
 */
import { ChatStoreError } from '../../errors.js';
import type { DurableObjectNamespace, DurableObjectStub } from './platform.js';

export interface ChatStoreBindings {
  /** `ConversationObject`: one per conversation, named by its id. */
  CHATSTORE_CONVERSATIONS: DurableObjectNamespace;
  /** `DirectoryObject`: the shards of the directory. */
  CHATSTORE_DIRECTORY: DurableObjectNamespace;
  /**
   * How many directory shards (1–64, default 8): each is one object, so it bounds the store's
   * writes per second and the size of the directory. Fixed once data is written: the ids hash to
   * their shard by this number.
   */
  CHATSTORE_DIRECTORY_SHARDS?: string;
}

export const DEFAULT_DIRECTORY_SHARDS = 8;
const MAX_DIRECTORY_SHARDS = 64;

/** The number of directory shards the bindings say. */
export function directoryShards(bindings: ChatStoreBindings): number {
  const text = bindings.CHATSTORE_DIRECTORY_SHARDS;
  if (text === undefined || text === '') return DEFAULT_DIRECTORY_SHARDS;
  const shards = Number(text);
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_DIRECTORY_SHARDS) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      `CHATSTORE_DIRECTORY_SHARDS must be an integer from 1 to ${MAX_DIRECTORY_SHARDS}, not ${text}`,
    );
  }
  return shards;
}

/** The object that owns conversation `id`. */
export function conversationObject(bindings: ChatStoreBindings, id: string): DurableObjectStub {
  const namespace = bindings.CHATSTORE_CONVERSATIONS;
  return namespace.get(namespace.idFromName(id));
}

/** Directory shard `index`. */
export function directoryShard(bindings: ChatStoreBindings, index: number): DurableObjectStub {
  const namespace = bindings.CHATSTORE_DIRECTORY;
  return namespace.get(namespace.idFromName(`shard-${index}`));
}

/** The shard a key (a conversation id, a message id) belongs to: FNV-1a of its UTF-8, modulo the shards. */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/** Keys grouped by their shard. */
export function byShard(keys: Iterable<string>, shards: number): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const key of keys) {
    const shard = shardOf(key, shards);
    const group = groups.get(shard);
    if (group === undefined) groups.set(shard, [key]);
    else group.push(key);
  }
  return groups;
}
