/**
 * The AI SDK's `UIMessage` as a chatstore message and back, and the idempotent save of a list of
 * them: new ones appended in one call, changed ones edited, the same ones left alone.
 */
import type { UIMessage } from 'ai';
import { ChatStoreError } from '../../errors.js';
import type { JsonObject, JsonValue, Message, NewConversation, NewMessage } from '../../model.js';
import type { ChatStore } from '../../store.js';
import { textOfParts } from '../../text.js';

export interface LoadUIMessagesOptions {
  /** How many of the newest messages to load at most (default 50). */
  limit?: number;
}

export interface SaveUIMessagesOptions {
  /** What the conversation is created with by its first message (type, title, channel such as `web`, participants). */
  conversation?: NewConversation;
}

/** What `saveUIMessages` did with one message: the message as stored afterwards. */
export interface SavedUIMessage {
  message: Message;
  outcome: 'appended' | 'edited' | 'unchanged';
}

/** What the adapter keeps in a stored message's `metadata.aiSdk`. */
export interface AiSdkMetadata {
  /** The `UIMessage`'s own `metadata`, as it was. */
  metadata?: JsonValue;
  /** The message is what had arrived when its stream stopped early (client gone, aborted, failed). */
  truncated?: true;
}

const DEFAULT_LIMIT = 50;
const UI_ROLES = ['system', 'user', 'assistant'] as const;
const PART_TYPES = new Set([
  'text',
  'reasoning',
  'source-url',
  'source-document',
  'file',
  'step-start',
  'dynamic-tool',
]);

/**
 * The newest messages of a conversation as `UIMessage`s, oldest first: the ids, parts and metadata
 * they were saved with. A message written another way (a webhook, the HTTP API) becomes a text part
 * of its content and a file part per attachment; a `tool` message (LangChain's) has no `UIMessage`
 * role and is left out.
 */
export async function loadUIMessages<M extends UIMessage = UIMessage>(
  store: ChatStore,
  conversationId: string,
  options: LoadUIMessagesOptions = {},
): Promise<M[]> {
  const messages = await store.recent(conversationId, options.limit ?? DEFAULT_LIMIT);
  return messages.filter((message) => message.role !== 'tool').map((message) => uiMessage(message) as M);
}

/**
 * Saves `UIMessage`s idempotently: the ones not stored yet (by id) in one atomic append, in their
 * order; a stored one whose parts or metadata changed is edited (parts and content replaced,
 * metadata set); the same one again stores nothing. Re-sending a whole history is safe.
 */
export async function saveUIMessages(
  store: ChatStore,
  conversationId: string,
  messages: readonly UIMessage[],
  options: SaveUIMessagesOptions = {},
): Promise<SavedUIMessage[]> {
  if (!Array.isArray(messages)) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'messages must be an array of UIMessages', { path: 'messages' });
  }
  return syncUIMessages(
    store,
    conversationId,
    messages.map((message, index) => ({ draft: storedUIMessage(message, `messages[${index}]`), edit: true })),
    options.conversation,
  );
}

/** One message to save: its draft, and whether a stored copy that differs is edited to match it. */
export interface Pending {
  draft: StoredUIMessage;
  edit: boolean;
}

/** A `UIMessage` as chatstore stores it: its id is the external id. */
export type StoredUIMessage = NewMessage & { externalId: string; content: string; parts: JsonValue[] };

/**
 * Stores what is new (one append), then edits what changed and may be edited. Stored copies are
 * looked up in the conversation's newest messages (one read), the others by id, so that a message
 * loaded without an external id (its UIMessage id is then its chatstore id) is recognised too; the
 * append finds the rest by external id.
 */
export async function syncUIMessages(
  store: ChatStore,
  conversationId: string,
  pending: readonly Pending[],
  conversation: NewConversation | undefined,
): Promise<SavedUIMessage[]> {
  if (pending.length === 0) return [];
  const window = await store.recent(conversationId, Math.min(pending.length, store.limits.maxPageSize));
  const byExternalId = new Map<string, Message>();
  const byId = new Map<string, Message>();
  for (const message of window) {
    if (message.externalId === undefined) byId.set(message.id, message);
    else byExternalId.set(message.externalId, message);
  }
  const known = await Promise.all(
    pending.map(async ({ draft }) => {
      const id = draft.externalId;
      const inWindow = byExternalId.get(id) ?? byId.get(id);
      if (inWindow !== undefined || id.length > store.limits.maxIdLength) return inWindow;
      // Older than the window: a message loaded by its chatstore id is found by that id.
      const byChatstoreId = await store.get(id);
      return byChatstoreId?.conversationId === conversationId && byChatstoreId.externalId === undefined
        ? byChatstoreId
        : undefined;
    }),
  );
  const fresh = pending.filter((_, index) => known[index] === undefined);
  const appended =
    fresh.length === 0
      ? []
      : await store.append(
          conversationId,
          fresh.map((item) => item.draft),
          conversation === undefined ? {} : { conversation },
        );
  let next = 0;
  const saved: SavedUIMessage[] = [];
  for (const [index, item] of pending.entries()) {
    const stored = known[index];
    if (stored === undefined) {
      // Not in the window: appended now, or found by the append (older, or stored meanwhile).
      const result = appended[next++];
      if (result === undefined) throw new ChatStoreError('UNAVAILABLE', 'the append returned fewer results than sent');
      saved.push(
        result.duplicate
          ? await editIfChanged(store, result.message, item)
          : { message: result.message, outcome: 'appended' },
      );
    } else {
      saved.push(await editIfChanged(store, stored, item));
    }
  }
  return saved;
}

async function editIfChanged(store: ChatStore, stored: Message, { draft, edit }: Pending): Promise<SavedUIMessage> {
  const storedAiSdk = aiSdkOf(stored);
  const wantedAiSdk = (draft.metadata?.aiSdk ?? {}) as JsonObject;
  const sameParts = sameJson(stored.parts ?? null, draft.parts);
  const sameMetadata = sameJson(storedAiSdk, wantedAiSdk);
  if (!edit || (sameParts && sameMetadata && stored.content === draft.content)) {
    return { message: stored, outcome: 'unchanged' };
  }
  const message = await store.edit(stored.id, {
    ...(stored.content === draft.content ? {} : { content: draft.content }),
    ...(sameParts ? {} : { parts: draft.parts }),
    ...(sameMetadata
      ? {}
      : {
          metadata: { aiSdk: Object.keys(wantedAiSdk).length === 0 ? null : replacingPatch(storedAiSdk, wantedAiSdk) },
        }),
  });
  return { message, outcome: 'edited' };
}

/**
 * A `UIMessage` as a chatstore message to append: `role` as it is (the store derives the direction:
 * `user` incoming, the others outgoing), `id` as the external id, `parts` as they are (keys whose
 * value is `undefined` dropped, as JSON drops them), the text parts joined as the `content` (so
 * search and token budgets see the text), the `UIMessage`'s `metadata` in `metadata.aiSdk.metadata`.
 */
export function storedUIMessage(message: UIMessage, path = 'message', truncated = false): StoredUIMessage {
  if (typeof message !== 'object' || message === null) throw invalid(path, 'must be a UIMessage object');
  const { id, role, parts, metadata } = message as Partial<UIMessage>;
  if (typeof id !== 'string' || id === '') throw invalid(`${path}.id`, 'must be a non-empty string');
  if (!(UI_ROLES as readonly unknown[]).includes(role)) {
    throw invalid(`${path}.role`, `must be one of ${UI_ROLES.join(', ')}`);
  }
  if (!Array.isArray(parts)) throw invalid(`${path}.parts`, 'must be an array of parts');
  const jsonParts = withoutUndefined(parts) as JsonValue[];
  const aiSdk: AiSdkMetadata = {
    ...(metadata === undefined ? {} : { metadata: withoutUndefined(metadata) as JsonValue }),
    ...(truncated ? { truncated: true as const } : {}),
  };
  return {
    role: role as UIMessage['role'],
    externalId: id,
    content: textOfParts(jsonParts),
    parts: jsonParts,
    ...(Object.keys(aiSdk).length === 0 ? {} : { metadata: { aiSdk: aiSdk as JsonObject } }),
  };
}

/** A stored message as the `UIMessage` it was saved as (see `loadUIMessages` for the others). */
export function uiMessage(message: Message): UIMessage {
  const aiSdk = aiSdkOf(message) as AiSdkMetadata;
  return {
    id: message.externalId ?? message.id,
    role: message.role === 'tool' ? 'assistant' : message.role,
    ...(aiSdk.metadata === undefined ? {} : { metadata: aiSdk.metadata }),
    parts: (message.parts?.every(isUIPart) ? message.parts : partsOfPlainMessage(message)) as UIMessage['parts'],
  };
}

/** True when the stored message was saved truncated (its stream stopped early) and not replaced since. */
export function isTruncated(message: Message): boolean {
  return (aiSdkOf(message) as AiSdkMetadata).truncated === true;
}

function partsOfPlainMessage(message: Message): JsonValue[] {
  const parts: JsonValue[] = message.content === '' ? [] : [{ type: 'text', text: message.content }];
  for (const media of message.media ?? []) {
    parts.push({ type: 'file', mediaType: media.mimeType ?? media.type, url: media.url });
  }
  return parts;
}

function isUIPart(part: JsonValue): boolean {
  if (typeof part !== 'object' || part === null || Array.isArray(part) || typeof part.type !== 'string') return false;
  return PART_TYPES.has(part.type) || part.type.startsWith('tool-') || part.type.startsWith('data-');
}

function aiSdkOf(message: Message): JsonObject {
  const aiSdk = message.metadata?.aiSdk;
  return typeof aiSdk === 'object' && aiSdk !== null && !Array.isArray(aiSdk) ? aiSdk : {};
}

/**
 * The JSON merge patch that turns `from` into `to`: keys `to` lacks removed, objects patched key by
 * key, anything else replaced. (A key `to` sets to `null` cannot be written by a merge patch: it is
 * removed; chatstore's edits of metadata are merge patches.)
 */
function replacingPatch(from: JsonObject, to: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) if (!(key in to)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    const before = from[key];
    if (isObject(value) && isObject(before)) {
      const inner = replacingPatch(before, value);
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (!sameJson(before ?? null, value) || !(key in from)) {
      patch[key] = value;
    }
  }
  return patch;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Equal as JSON values, whatever the key order of objects. */
function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i] as JsonValue));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => key in b && sameJson(a[key] as JsonValue, b[key] as JsonValue))
  );
}

/**
 * `value` without the object keys whose value is `undefined`, as `JSON.stringify` leaves them out:
 * the AI SDK builds parts with such keys (`providerMetadata: undefined`). Anything else that is not
 * JSON (a `Date`, `NaN`) is left for the store's validation to refuse.
 */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined)
      Object.defineProperty(copy, key, {
        value: withoutUndefined(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return copy;
}

function invalid(path: string, problem: string): ChatStoreError {
  return new ChatStoreError('INVALID_ARGUMENT', `${path} ${problem}`, { path });
}
