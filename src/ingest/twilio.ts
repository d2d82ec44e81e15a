/**
 * Twilio Messaging webhooks: the form-encoded parameters of an incoming message (`MessageSid`,
 * `From`, `To`, `Body`, `NumMedia`, `MediaUrl{n}`/`MediaContentType{n}`, …) or of a status callback
 * (`MessageSid`, `MessageStatus`, `ErrorCode`, `ErrorMessage`).
 *
 * - An incoming message (no `MessageStatus`, or `received`): the conversation is the sender's number
 *   as E.164 (`whatsapp:+1…` as `+1…`), the sender too, the recipient `To`; `MessageSid` is the
 *   external id; media are Twilio's URLs with their content types; a WhatsApp reply
 *   (`OriginalRepliedMessageSid`) is the `replyTo`; every other parameter is kept in
 *   `metadata.twilio`, with the channel (`sms`, `whatsapp`, … from `From`'s prefix). Twilio sends
 *   no time: the message takes the time it arrived.
 * - A status callback: `queued`, `accepted`, `scheduled` and `sending` are `queued`; `sent`,
 *   `delivered`, `read` as they are; `undelivered`, `failed` and `canceled` are `failed`, with
 *   `ErrorCode` and `ErrorMessage`; for the message whose external id is `MessageSid`, in the
 *   conversation of `To` (the customer), at the time the callback arrived.
 */
import type { JsonObject, Media, MessageStatus } from '../model.js';
import { normalizedPhone } from '../phone.js';
import { badShape, type IngestEvent, textAt } from './events.js';

const STATUSES: Readonly<Record<string, MessageStatus>> = {
  queued: 'queued',
  accepted: 'queued',
  scheduled: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};
/** The parameters an incoming message is made of; the rest go to `metadata.twilio`. */
const MAPPED = new Set([
  'MessageSid',
  'SmsSid',
  'SmsMessageSid',
  'From',
  'To',
  'Body',
  'NumMedia',
  'OriginalRepliedMessageSid',
]);

export function twilioEvents(params: Readonly<Record<string, string>>, receivedAt: Date = new Date()): IngestEvent[] {
  const sid = textAt(params.MessageSid ?? params.SmsSid, 'MessageSid');
  const reported = params.MessageStatus ?? params.SmsStatus;
  const at = receivedAt.toISOString();
  if (reported !== undefined && reported !== 'received' && reported !== 'receiving') {
    const status = STATUSES[reported];
    if (status === undefined) throw badShape('MessageStatus', `one of ${Object.keys(STATUSES).join(', ')}, received`);
    const failed = status === 'failed';
    return [
      {
        kind: 'status',
        externalId: sid,
        conversationId: normalizedPhone(textAt(params.To, 'To')),
        status,
        at,
        ...(failed
          ? {
              error: {
                ...(params.ErrorCode === undefined || params.ErrorCode === '' ? {} : { code: params.ErrorCode }),
                message: params.ErrorMessage || reported,
              },
            }
          : {}),
      },
    ];
  }
  const from = textAt(params.From, 'From');
  const to = textAt(params.To, 'To');
  const customer = normalizedPhone(from);
  const count = Number(params.NumMedia ?? '0');
  if (!Number.isSafeInteger(count) || count < 0) throw badShape('NumMedia', 'a count');
  const media: Media[] = [];
  const mediaParams = new Set<string>();
  for (let n = 0; n < count; n++) {
    const url = textAt(params[`MediaUrl${n}`], `MediaUrl${n}`);
    const mimeType = params[`MediaContentType${n}`];
    mediaParams.add(`MediaUrl${n}`).add(`MediaContentType${n}`);
    media.push({
      url,
      type: mimeType?.split('/')[0] || 'file',
      ...(mimeType === undefined || mimeType === '' ? {} : { mimeType }),
    });
  }
  const channel = /^([a-z]+):/i.exec(from)?.[1]?.toLowerCase() ?? 'sms';
  const twilio: JsonObject = { channel };
  for (const [name, value] of Object.entries(params)) {
    if (!MAPPED.has(name) && !mediaParams.has(name)) twilio[name] = value;
  }
  const replyTo = params.OriginalRepliedMessageSid;
  return [
    {
      kind: 'message',
      conversationId: customer,
      message: {
        role: 'user',
        externalId: sid,
        senderId: customer,
        recipientId: normalizedPhone(to),
        content: params.Body ?? '',
        ...(media.length === 0 ? {} : { media }),
        ...(replyTo === undefined || replyTo === '' ? {} : { replyTo }),
        createdAt: at,
        metadata: { twilio },
      },
      conversation: {
        type: 'private',
        channel,
        participants: [
          { id: customer, kind: 'human', ...(params.ProfileName ? { name: params.ProfileName } : {}) },
          { id: normalizedPhone(to), kind: 'bot' },
        ],
      },
    },
  ];
}

/** A form-encoded body (`application/x-www-form-urlencoded`) as Twilio's parameters. */
export function formParams(body: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(body)) params[name] = value;
  return params;
}
