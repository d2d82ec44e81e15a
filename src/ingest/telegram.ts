/**
 * Telegram Bot API webhooks: an `Update` with a `message`, `edited_message`, `channel_post` or
 * `edited_channel_post` (other updates, such as callback queries, carry no message and are skipped).
 *
 * The conversation is the chat (`chat.id`; its type `private`, `group` for groups and supergroups,
 * `channel`; its title or the person's name). `message_id` is unique only within a chat, so the
 * external id is `<chat id>:<message_id>`; a message whose `message_id` is 0 gets
 * `<chat id>:update:<update_id>` instead (a retry of the update is still the same message, but an
 * edit of it cannot be matched). The sender is `from.id` (a channel post's `sender_chat`, else the
 * chat); text is `text` or `caption`; a reply's `replyTo` is the external id of the message replied
 * to; media (the largest photo, document, audio, voice, video, video note, animation, sticker) are
 * references, `telegram-file:<file_id>` (fetch them with `getFile`); everything else of the message
 * (the sender, entities, location, contact, …) is kept in `metadata.telegram`. An edit becomes
 * `edit()` of the stored message.
 */
import type { JsonObject, Media, NewConversation, NewMessage } from '../model.js';
import { badShape, type IngestEvent, json, objectAt, secondsAt } from './events.js';

const KINDS = ['message', 'edited_message', 'channel_post', 'edited_channel_post'] as const;
const MEDIA: readonly [field: string, type: string][] = [
  ['photo', 'image'],
  ['document', 'document'],
  ['audio', 'audio'],
  ['voice', 'audio'],
  ['video', 'video'],
  ['video_note', 'video'],
  ['animation', 'video'],
  ['sticker', 'sticker'],
];
/** Message fields the message is made of; the rest go to `metadata.telegram`. */
const MAPPED = new Set(['message_id', 'chat', 'date', 'text', 'caption', 'reply_to_message']);

export function telegramEvents(payload: unknown): IngestEvent[] {
  const update = objectAt(payload, 'body');
  const updateId = integerAt(update.update_id, 'update_id');
  const kind = KINDS.find((name) => update[name] !== undefined);
  if (kind === undefined) return [];
  const fields = objectAt(update[kind], kind);
  const chat = objectAt(fields.chat, `${kind}.chat`);
  const chatId = String(integerAt(chat.id, `${kind}.chat.id`, true));
  const messageId = integerAt(fields.message_id, `${kind}.message_id`);
  const externalId = messageId === 0 ? `${chatId}:update:${updateId}` : `${chatId}:${messageId}`;
  const edited = kind.startsWith('edited_');
  const createdAt = secondsAt(fields.date, `${kind}.date`);
  const content =
    typeof fields.text === 'string' ? fields.text : typeof fields.caption === 'string' ? fields.caption : '';
  const from = fields.from as { id?: unknown; is_bot?: unknown; first_name?: unknown; last_name?: unknown } | undefined;
  const senderChat = fields.sender_chat as { id?: unknown } | undefined;
  const senderId = String(from?.id ?? senderChat?.id ?? chatId);
  const replied = fields.reply_to_message as { message_id?: unknown } | undefined;
  const replyTo =
    typeof replied?.message_id === 'number' && replied.message_id > 0 ? `${chatId}:${replied.message_id}` : undefined;
  const media = mediaOf(fields, kind);
  const telegram: JsonObject = { updateId, chatType: json(chat.type) };
  for (const [name, value] of Object.entries(fields)) if (!MAPPED.has(name)) telegram[name] = json(value);
  const message: NewMessage = {
    role: 'user',
    externalId,
    senderId,
    content,
    createdAt,
    ...(media === undefined ? {} : { media: [media] }),
    ...(replyTo === undefined ? {} : { replyTo }),
    metadata: { telegram },
  };
  const conversation = conversationOf(chat, from, senderId);
  if (edited) return [{ kind: 'edit', conversationId: chatId, externalId, content, message, conversation }];
  return [{ kind: 'message', conversationId: chatId, message, conversation }];
}

function integerAt(value: unknown, path: string, signed = false): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || (!signed && value < 0)) {
    throw badShape(path, signed ? 'an integer' : 'a non-negative integer');
  }
  return value;
}

function conversationOf(
  chat: Record<string, unknown>,
  from: { is_bot?: unknown; first_name?: unknown; last_name?: unknown } | undefined,
  senderId: string,
): NewConversation {
  const type = chat.type === 'private' ? 'private' : chat.type === 'channel' ? 'channel' : 'group';
  const personName = [chat.first_name, chat.last_name].filter((part) => typeof part === 'string').join(' ');
  const title = typeof chat.title === 'string' ? chat.title : personName;
  const senderName = [from?.first_name, from?.last_name].filter((part) => typeof part === 'string').join(' ');
  return {
    type,
    ...(title === '' ? {} : { title }),
    channel: 'telegram',
    participants: [
      {
        id: senderId,
        kind: from?.is_bot === true ? 'bot' : 'human',
        ...(senderName === '' ? {} : { name: senderName }),
      },
    ],
  };
}

/** The message's file, as a reference by its `file_id`. */
function mediaOf(fields: Record<string, unknown>, kind: string): Media | undefined {
  for (const [field, type] of MEDIA) {
    const value = fields[field];
    if (value === undefined) continue;
    // A photo comes in several sizes, smallest first.
    const file = objectAt(Array.isArray(value) ? value.at(-1) : value, `${kind}.${field}`) as {
      file_id?: unknown;
      mime_type?: unknown;
      file_size?: unknown;
    };
    if (typeof file.file_id !== 'string' || file.file_id === '') throw badShape(`${kind}.${field}.file_id`, 'a string');
    return {
      url: `telegram-file:${file.file_id}`,
      type,
      providerId: file.file_id,
      ...(typeof file.mime_type === 'string' ? { mimeType: file.mime_type } : {}),
      ...(typeof file.file_size === 'number' && Number.isSafeInteger(file.file_size) ? { size: file.file_size } : {}),
    };
  }
  return undefined;
}
