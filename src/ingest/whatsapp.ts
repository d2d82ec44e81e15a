/**
 * WhatsApp Cloud API webhooks (Meta): `{ object: 'whatsapp_business_account', entry: [{ changes:
 * [{ field: 'messages', value: { metadata, contacts?, messages?, statuses? } }] }] }`.
 *
 * - Each of `value.messages[]` is a message from the customer: the conversation is the customer's
 *   number (`from`, as E.164), the sender too, the recipient the business number
 *   (`metadata.display_phone_number`); its `wamid` is the external id, `timestamp` the time;
 *   `context.id` (a reply) the `replyTo`. Text is `text.body`, a caption, a button's or a list
 *   row's title, a reaction's emoji; media (image, audio, video, document, sticker) is a reference,
 *   `whatsapp-media:<media id>` (fetch it from the Graph API with the app's token); everything of the
 *   message's type (location, contacts, interactive, button, reaction, order, referral, errors…) is
 *   kept in `metadata.whatsapp` as it came, with the `phone_number_id`.
 * - Each of `value.statuses[]` is a status of a message the business sent (`sent`, `delivered`,
 *   `read`, `failed` with its `errors`), for the message whose external id is its `id`.
 * Other fields of a change (template updates, account alerts) carry no message and are skipped.
 */
import type { JsonObject, Media, MessageError, MessageStatus, NewMessage } from '../model.js';
import { normalizedPhone } from '../phone.js';
import { arrayAt, badShape, type IngestEvent, json, objectAt, secondsAt, textAt } from './events.js';

const MEDIA_TYPES = new Set(['image', 'audio', 'video', 'document', 'sticker']);
const STATUSES: Readonly<Record<string, MessageStatus>> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
};

export function whatsappEvents(payload: unknown): IngestEvent[] {
  const body = objectAt(payload, 'body');
  if (body.object !== 'whatsapp_business_account') throw badShape('object', "'whatsapp_business_account'");
  const events: IngestEvent[] = [];
  arrayAt(body.entry, 'entry').forEach((entryValue, e) => {
    const entry = objectAt(entryValue, `entry[${e}]`);
    arrayAt(entry.changes, `entry[${e}].changes`).forEach((changeValue, c) => {
      const path = `entry[${e}].changes[${c}]`;
      const change = objectAt(changeValue, path);
      if (change.field !== 'messages') return;
      const value = objectAt(change.value, `${path}.value`);
      const metadata = objectAt(value.metadata, `${path}.value.metadata`);
      const business = normalizedPhone(
        textAt(metadata.display_phone_number, `${path}.value.metadata.display_phone_number`),
      );
      const phoneNumberId = textAt(metadata.phone_number_id, `${path}.value.metadata.phone_number_id`);
      const names = contactNames(value.contacts, `${path}.value.contacts`);
      arrayAt(value.messages, `${path}.value.messages`).forEach((message, m) => {
        events.push(messageEvent(message, `${path}.value.messages[${m}]`, business, phoneNumberId, names));
      });
      arrayAt(value.statuses, `${path}.value.statuses`).forEach((status, s) => {
        const event = statusEvent(status, `${path}.value.statuses[${s}]`);
        if (event !== undefined) events.push(event);
      });
    });
  });
  return events;
}

/** The customers' profile names, by their number as E.164. */
function contactNames(value: unknown, path: string): Map<string, string> {
  const names = new Map<string, string>();
  arrayAt(value, path).forEach((contactValue, i) => {
    const contact = objectAt(contactValue, `${path}[${i}]`);
    const name = (contact.profile as { name?: unknown } | undefined)?.name;
    if (typeof contact.wa_id === 'string' && typeof name === 'string') names.set(normalizedPhone(contact.wa_id), name);
  });
  return names;
}

function messageEvent(
  value: unknown,
  path: string,
  business: string,
  phoneNumberId: string,
  names: Map<string, string>,
): IngestEvent {
  const fields = objectAt(value, path);
  const customer = normalizedPhone(textAt(fields.from, `${path}.from`));
  const wamid = textAt(fields.id, `${path}.id`);
  const createdAt = secondsAt(fields.timestamp, `${path}.timestamp`);
  const type = textAt(fields.type, `${path}.type`);
  const { from: _from, id: _id, timestamp: _timestamp, type: _type, context, ...rest } = fields;
  const whatsapp: JsonObject = { phoneNumberId, type };
  for (const [name, field] of Object.entries(rest)) whatsapp[name] = json(field);
  let replyTo: string | undefined;
  if (context !== undefined) {
    const { id, ...contextRest } = objectAt(context, `${path}.context`);
    if (typeof id === 'string' && id !== '') replyTo = id;
    if (Object.keys(contextRest).length > 0) whatsapp.context = json(contextRest);
  }
  const typed = rest[type];
  let content = '';
  let media: Media | undefined;
  if (type === 'text') content = textOf(objectAt(typed, `${path}.text`).body, `${path}.text.body`);
  else if (MEDIA_TYPES.has(type)) {
    const file = objectAt(typed, `${path}.${type}`);
    media = mediaOf(file, type, `${path}.${type}`);
    content = typeof file.caption === 'string' ? file.caption : '';
  } else if (type === 'interactive') {
    const interactive = objectAt(typed, `${path}.interactive`);
    const reply = (interactive.button_reply ?? interactive.list_reply) as { title?: unknown } | undefined;
    content = typeof reply?.title === 'string' ? reply.title : '';
  } else if (type === 'button') {
    const button = objectAt(typed, `${path}.button`);
    content = typeof button.text === 'string' ? button.text : '';
  } else if (type === 'reaction') {
    const reaction = objectAt(typed, `${path}.reaction`);
    content = typeof reaction.emoji === 'string' ? reaction.emoji : '';
    if (typeof reaction.message_id === 'string' && reaction.message_id !== '') replyTo ??= reaction.message_id;
  } else if (type === 'system') {
    const system = objectAt(typed, `${path}.system`);
    content = typeof system.body === 'string' ? system.body : '';
  }
  const message: NewMessage = {
    role: 'user',
    externalId: wamid,
    senderId: customer,
    recipientId: business,
    content,
    createdAt,
    ...(media === undefined ? {} : { media: [media] }),
    ...(replyTo === undefined ? {} : { replyTo }),
    metadata: { whatsapp },
  };
  const name = names.get(customer);
  return {
    kind: 'message',
    conversationId: customer,
    message,
    conversation: {
      type: 'private',
      channel: 'whatsapp',
      participants: [
        { id: customer, kind: 'human', ...(name === undefined ? {} : { name }) },
        { id: business, kind: 'bot' },
      ],
    },
  };
}

function textOf(value: unknown, path: string): string {
  if (typeof value !== 'string') throw badShape(path, 'a string');
  return value;
}

/** A media object (`{ id, mime_type, sha256, caption?, filename?, voice? }`) as a reference. */
function mediaOf(file: Record<string, unknown>, type: string, path: string): Media {
  const id = textAt(file.id, `${path}.id`);
  const sha256 = hexSha256(file.sha256);
  return {
    url: `whatsapp-media:${id}`,
    type,
    providerId: id,
    ...(typeof file.mime_type === 'string' && file.mime_type !== '' ? { mimeType: file.mime_type } : {}),
    ...(sha256 === undefined ? {} : { sha256 }),
  };
}

/** WhatsApp's `sha256` of a media file (base64, or hex) as 64 hex digits; undefined when it is neither. */
function hexSha256(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  try {
    const bytes = atob(value);
    if (bytes.length !== 32) return undefined;
    return [...bytes].map((character) => character.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return undefined;
  }
}

/** A status item; undefined for a status chatstore does not track (`deleted`, `warning`). */
function statusEvent(value: unknown, path: string): IngestEvent | undefined {
  const fields = objectAt(value, path);
  const externalId = textAt(fields.id, `${path}.id`);
  const reported = textAt(fields.status, `${path}.status`);
  const at = secondsAt(fields.timestamp, `${path}.timestamp`);
  const customer = normalizedPhone(textAt(fields.recipient_id, `${path}.recipient_id`));
  const status = STATUSES[reported];
  if (status === undefined) return undefined;
  const errors = arrayAt(fields.errors, `${path}.errors`);
  const first = errors[0] as
    | { code?: unknown; title?: unknown; message?: unknown; error_data?: { details?: unknown } }
    | undefined;
  const error: MessageError | undefined =
    first === undefined
      ? undefined
      : {
          ...(first.code === undefined ? {} : { code: String(first.code) }),
          message:
            [first.title, first.message, first.error_data?.details]
              .filter((part): part is string => typeof part === 'string' && part !== '')
              .filter((part, i, all) => all.indexOf(part) === i)
              .join(': ') || 'failed',
        };
  return {
    kind: 'status',
    externalId,
    conversationId: customer,
    status,
    at,
    ...(error === undefined ? {} : { error }),
  };
}
