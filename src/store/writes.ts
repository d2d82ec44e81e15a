/** ChatStore's message writes: append, restore, status reports, edits and deletes. */
import type { MessageDraft } from '../backend.js';
import { ChatStoreError } from '../errors.js';
import { applyMergePatch } from '../merge-patch.js';
import type { AppendResult, Message, MessageStatus, NewMessage } from '../model.js';
import { applyStatus } from '../status.js';
import { invalid, type ValidMessage } from '../validate.js';
import { canonicalMessage } from './canonical.js';
import type { StoreCore } from './core.js';
import { dedupeParticipants, impliedParticipants, participant, restoredDraft, structuredBytes } from './drafts.js';
import type { AppendOptions, DeleteOptions, EditOptions, RestoreOptions, StatusOptions } from './options.js';

export async function appendMessages(
  core: StoreCore,
  conversationId: string,
  input: NewMessage | NewMessage[],
  options: AppendOptions,
): Promise<AppendResult[]> {
  const { validate } = core;
  const id = validate.id(conversationId, 'conversationId');
  const valid = validate.messages(input);
  const expectedLastSeq =
    options.expectedLastSeq === undefined ? undefined : validate.seq(options.expectedLastSeq, 'expectedLastSeq');
  const conversation = validate.conversation(options.conversation, 'conversation');
  const now = core.timestamp();
  const messages = valid.map((message) => messageDraft(core, message, now));
  const participants = dedupeParticipants([
    ...(conversation.participants ?? []).map((p) => participant(p, now)),
    ...messages.flatMap((message) => impliedParticipants(message, now)),
  ]);
  const results = await core.backend.append({
    conversationId: id,
    messages,
    ...(expectedLastSeq === undefined ? {} : { expectedLastSeq }),
    conversation: {
      type: conversation.type ?? 'private',
      ...(conversation.title === undefined ? {} : { title: conversation.title }),
      ...(conversation.channel === undefined ? {} : { channel: conversation.channel }),
      metadata: conversation.metadata ?? {},
    },
    participants,
    now,
  });
  return results.map((result) => ({ message: canonicalMessage(result.message), duplicate: result.duplicate }));
}

export async function restoreMessages(
  core: StoreCore,
  conversationId: string,
  messages: Message[],
  options: RestoreOptions,
): Promise<AppendResult[]> {
  const { validate } = core;
  const id = validate.id(conversationId, 'conversationId');
  const record =
    options.conversation === undefined ? undefined : validate.storedConversation(options.conversation, 'conversation');
  if (record !== undefined && record.id !== id) throw invalid('conversation.id', 'must be the conversationId');
  const valid = validate.storedMessages(messages, id);
  if (valid.length === 0 && record === undefined) throw invalid('messages', 'must contain at least one message');
  const now = core.timestamp();
  const drafts = valid.map(restoredDraft);
  const participants = dedupeParticipants(
    record?.participants ?? drafts.flatMap((message) => impliedParticipants(message, now)),
  );
  const results = await core.backend.append({
    conversationId: id,
    messages: drafts,
    conversation: {
      type: record?.type ?? 'private',
      ...(record?.title === undefined ? {} : { title: record.title }),
      ...(record?.channel === undefined ? {} : { channel: record.channel }),
      metadata: record?.metadata ?? {},
    },
    participants,
    now,
    restore: {
      createdAt: record?.createdAt ?? now,
      updatedAt: record?.updatedAt ?? now,
      ...(record?.lastMessageAt === undefined ? {} : { lastMessageAt: record.lastMessageAt }),
      ...(record?.deletedAt === undefined ? {} : { deletedAt: record.deletedAt }),
      lastSeq: options.more === true ? 0 : (record?.lastSeq ?? 0),
    },
  });
  return results.map((result) => ({ message: canonicalMessage(result.message), duplicate: result.duplicate }));
}

export async function reportStatus(
  core: StoreCore,
  idOrExternalId: string,
  status: MessageStatus,
  options: StatusOptions,
): Promise<Message> {
  const { validate } = core;
  const key = validate.id(idOrExternalId, 'idOrExternalId');
  const reported = validate.status(status, 'status');
  const at = options.at === undefined ? core.timestamp() : validate.time(options.at, 'at');
  const error = options.error === undefined ? undefined : validate.error(options.error, 'error');
  const conversationId =
    options.conversationId === undefined ? undefined : validate.id(options.conversationId, 'conversationId');
  const target = await findMessage(core, key, conversationId);
  const updated = await core.backend.updateMessage(target.id, (current) => applyStatus(current, reported, at, error));
  if (updated === undefined) throw notFound(key);
  return canonicalMessage(updated);
}

export async function editMessage(core: StoreCore, id: string, changes: EditOptions): Promise<Message> {
  const { validate, limits } = core;
  const key = validate.id(id, 'id');
  if (typeof changes !== 'object' || changes === null) throw invalid('changes', 'must be an object');
  const content = changes.content === undefined ? undefined : validate.content(changes.content, 'content');
  const parts = changes.parts === undefined ? undefined : validate.parts(changes.parts, 'parts');
  const patch = changes.metadata === undefined ? undefined : validate.metadata(changes.metadata, 'metadata');
  if (content === undefined && parts === undefined && patch === undefined) {
    throw invalid('changes', 'must change content, parts or metadata');
  }
  const now = core.timestamp();
  let deleted = false;
  let tooLarge = false;
  const updated = await core.backend.updateMessage(key, (current) => {
    if (current.deletedAt !== undefined) {
      deleted = true;
      return undefined;
    }
    const next: Message = { ...current, editedAt: now };
    if (content !== undefined) next.content = content;
    if (parts !== undefined) next.parts = parts;
    if (patch !== undefined) {
      const metadata = applyMergePatch(current.metadata ?? {}, patch);
      if (Object.keys(metadata).length === 0) delete next.metadata;
      else next.metadata = metadata;
    }
    tooLarge = (parts !== undefined || patch !== undefined) && structuredBytes(next) > limits.maxStructuredBytes;
    return tooLarge ? undefined : next;
  });
  if (updated === undefined || deleted) throw notFound(key);
  if (tooLarge) {
    throw invalid(
      patch === undefined ? 'parts' : 'metadata',
      `would make metadata, parts and media exceed ${limits.maxStructuredBytes} bytes`,
    );
  }
  return canonicalMessage(updated);
}

export async function deleteMessage(core: StoreCore, id: string, options: DeleteOptions): Promise<boolean> {
  const key = core.validate.id(id, 'id');
  if (compacting(core, options)) return core.backend.removeMessage(key, { compact: true });
  if (options.hard === true) return core.backend.removeMessage(key);
  const now = core.timestamp();
  const updated = await core.backend.updateMessage(key, (current) =>
    current.deletedAt === undefined ? { ...current, deletedAt: now } : undefined,
  );
  return updated !== undefined;
}

/** True when a delete asks for compaction on an engine that has it; `compact` without `hard` is refused. */
export function compacting(core: StoreCore, options: DeleteOptions): boolean {
  if (options.compact !== true) return false;
  if (options.hard !== true) throw invalid('compact', 'needs hard: true (a soft delete keeps the data)');
  return core.backend.compact !== undefined;
}

/** A validated message as the engine stores it: role and direction completed, an id, the command detected. */
function messageDraft(core: StoreCore, message: ValidMessage, now: string): MessageDraft {
  const role = message.role ?? (message.direction === 'incoming' ? 'user' : 'assistant');
  const direction = message.direction ?? (role === 'user' ? 'incoming' : 'outgoing');
  const content = message.content ?? '';
  const createdAt = message.createdAt ?? now;
  const draft: MessageDraft = { id: message.id ?? core.newId(), role, direction, content, createdAt };
  if (message.externalId !== undefined) draft.externalId = message.externalId;
  if (message.senderId !== undefined) draft.senderId = message.senderId;
  if (message.recipientId !== undefined) draft.recipientId = message.recipientId;
  if (message.parts !== undefined) draft.parts = message.parts;
  if (message.media !== undefined && message.media.length > 0) draft.media = message.media;
  if (message.status !== undefined) {
    draft.status = message.status;
    draft.statusAt = { [message.status]: createdAt, ...message.statusAt };
  } else if (message.statusAt !== undefined && Object.keys(message.statusAt).length > 0) {
    draft.statusAt = message.statusAt;
  }
  if (message.error !== undefined) draft.error = message.error;
  if (message.replyTo !== undefined) draft.replyTo = message.replyTo;
  const command =
    message.command === null
      ? undefined
      : (message.command ?? (direction === 'incoming' ? core.detectCommand(content) : undefined));
  if (command !== undefined) draft.command = command;
  if (message.metadata !== undefined && Object.keys(message.metadata).length > 0) draft.metadata = message.metadata;
  return draft;
}

/** A message by id, else by external id (in the conversation when one is given). */
async function findMessage(core: StoreCore, key: string, conversationId: string | undefined): Promise<Message> {
  const byId = await core.backend.getMessage(key);
  if (byId !== undefined && (conversationId === undefined || byId.conversationId === conversationId)) return byId;
  const byExternal = await core.backend.getMessageByExternalId(key, conversationId);
  if (byExternal === undefined) throw notFound(key);
  return byExternal;
}

function notFound(key: string): ChatStoreError {
  return new ChatStoreError('NOT_FOUND', `message ${key} not found`);
}
