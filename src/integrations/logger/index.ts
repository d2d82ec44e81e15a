/**
 * `chatstore/logger`: the bot-flow message logger the old message-log system had, over any store.
 * `logIncoming(ctx)` when a message arrives, `logOutgoing(from, to, text)` when the bot answers,
 * `sendAndLog(ctx, utils, text)` to answer through the flow and log it in one step; `attachTo(bot,
 * provider)` wires the first two to a BuilderBot bot (the provider's `message` event, the bot's
 * `send_message` event, which fires for `addAnswer` and `flowDynamic`).
 *
 * Logging never breaks the flow: no call throws or rejects; a failure goes to `onError` with what was
 * being logged, and the call resolves to undefined. A message the provider retried (the same
 * provider id in the same conversation) is stored once. Commands (`/start`, `!ban`) are detected on
 * incoming messages by the store; an answer is linked (`replyTo`) to the last incoming message of
 * its conversation. Conversations are the customer's number as E.164 (`34600000000` →
 * `+34600000000`), as webhooks and migrations make them; ids that are not phone numbers stay as they are.
 * @example
 * const log = messageLogger(store, { bot: '+15550783881', onError: (error) => console.warn(error) });
 * log.attachTo(bot, provider);
 */
import { LRUCache } from 'lru-cache';
import type { JsonObject, Media, Message } from '../../model.js';
import { normalizedPhone } from '../../phone.js';
import type { ChatStore } from '../../store.js';

/** What a bot framework hands a flow for an incoming message (BuilderBot's `ctx`): its sender and text at least. */
export interface IncomingContext {
  from: string;
  body?: string;
  name?: string;
  [field: string]: unknown;
}

/** What `logOutgoing` may add to the text. */
export interface OutgoingExtra {
  /** The provider's id of the sent message, when the send returned one. */
  externalId?: string;
  /** The message it answers (default: the last incoming message of the conversation). */
  replyTo?: string;
  media?: Media[];
  metadata?: JsonObject;
}

export interface MessageLoggerOptions {
  /** The bot's own id (its number): the sender of outgoing messages, the recipient of incoming ones. */
  bot?: string;
  /** The channel the conversations it creates live on (default `whatsapp`, BuilderBot's usual provider). */
  channel?: string;
  /** Where failures go; logging never throws into the flow. */
  onError?: (error: unknown, failed: { operation: 'incoming' | 'outgoing'; conversationId: string }) => void;
}

/** The two BuilderBot objects `attachTo` listens on. */
export interface BotEvents {
  on(event: 'send_message', listener: (sent: SentMessage) => void): unknown;
}
export interface ProviderEvents {
  on(event: 'message', listener: (ctx: IncomingContext) => void): unknown;
}
/** BuilderBot's `send_message` payload. */
export interface SentMessage {
  from: string;
  answer: string;
  ref?: string;
  keyword?: string | null;
  options?: { media?: unknown };
  respMessage?: unknown;
}

export interface MessageLogger {
  logIncoming(ctx: IncomingContext): Promise<Message | undefined>;
  logOutgoing(from: string, to: string, text: string, extra?: OutgoingExtra): Promise<Message | undefined>;
  /** Sends `text` through the flow (`flowDynamic`), then logs it as the answer to `ctx`. */
  sendAndLog(
    ctx: IncomingContext,
    utils: { flowDynamic(text: string): Promise<unknown> },
    text: string,
  ): Promise<Message | undefined>;
  /** Logs every incoming message of `provider` and every answer `bot` sends. */
  attachTo(bot: BotEvents, provider: ProviderEvents): void;
}

/** Conversations whose last incoming message is remembered for the answers' `replyTo`. */
const RECENT_CONVERSATIONS = 10_000;
/** Ctx fields that carry the provider's id of an incoming message (Meta, Baileys, Twilio, Telegram). */
const PROVIDER_ID_FIELDS = ['message_id', 'messageId', 'MessageSid', 'id'] as const;
/** Ctx fields not kept in `metadata.ctx`: the message itself, and what a provider attaches whole. */
const NOT_KEPT = new Set([
  'body',
  'from',
  'name',
  'host',
  'message',
  'key',
  'messageCtx',
  'ref',
  'keyword',
  'answer',
  'refSerialize',
]);

export function messageLogger(store: ChatStore, options: MessageLoggerOptions = {}): MessageLogger {
  const bot = options.bot === undefined ? undefined : normalizedPhone(options.bot);
  const channel = options.channel ?? 'whatsapp';
  /**
   * The last incoming message of each recent conversation, as its append in flight: an answer waits
   * for it (so it is stored after the message it answers) and replies to it.
   */
  const lastIncoming = new LRUCache<string, Promise<Message | undefined>>({ max: RECENT_CONVERSATIONS });
  const failed = (operation: 'incoming' | 'outgoing', conversationId: string) => (error: unknown) => {
    try {
      options.onError?.(error, { operation, conversationId });
    } catch {
      // A failing error hook must not break the flow either.
    }
    return undefined;
  };

  const appendIncoming = async (ctx: IncomingContext, conversationId: string): Promise<Message | undefined> => {
    try {
      const externalId = providerId(ctx);
      const [result] = await store.append(
        conversationId,
        {
          role: 'user',
          content: typeof ctx.body === 'string' ? ctx.body : '',
          senderId: conversationId,
          ...(bot === undefined ? {} : { recipientId: bot }),
          ...(externalId === undefined ? {} : { externalId }),
          metadata: { ctx: keptFields(ctx) },
        },
        {
          conversation: {
            type: 'private',
            channel,
            participants: [
              {
                id: conversationId,
                kind: 'human',
                ...(typeof ctx.name === 'string' && ctx.name !== '' ? { name: ctx.name } : {}),
              },
              ...(bot === undefined ? [] : [{ id: bot, kind: 'bot' as const }]),
            ],
          },
        },
      );
      return result?.message;
    } catch (error) {
      return failed('incoming', conversationId)(error);
    }
  };

  const logger: MessageLogger = {
    logIncoming(ctx) {
      const conversationId = normalizedPhone(String(ctx?.from ?? ''));
      const logged = appendIncoming(ctx, conversationId);
      lastIncoming.set(conversationId, logged);
      return logged;
    },

    async logOutgoing(from, to, text, extra = {}) {
      const conversationId = normalizedPhone(String(to ?? ''));
      try {
        const replyTo = extra.replyTo ?? (await lastIncoming.get(conversationId))?.id;
        const [result] = await store.append(
          conversationId,
          {
            role: 'assistant',
            content: text,
            senderId: normalizedPhone(from),
            recipientId: conversationId,
            ...(extra.externalId === undefined ? {} : { externalId: extra.externalId }),
            ...(replyTo === undefined ? {} : { replyTo }),
            ...(extra.media === undefined ? {} : { media: extra.media }),
            ...(extra.metadata === undefined ? {} : { metadata: extra.metadata }),
          },
          // A conversation the bot starts (a notification) is created here.
          { conversation: { type: 'private', channel } },
        );
        return result?.message;
      } catch (error) {
        return failed('outgoing', conversationId)(error);
      }
    },
    async sendAndLog(ctx, utils, text) {
      await utils.flowDynamic(text);
      const conversationId = normalizedPhone(String(ctx?.from ?? ''));
      const incoming = providerId(ctx);
      const replyTo =
        incoming === undefined
          ? undefined
          : (await store.getByExternalId(incoming, conversationId).catch(() => undefined))?.id;
      return logger.logOutgoing(bot ?? 'bot', ctx.from, text, replyTo === undefined ? {} : { replyTo });
    },

    attachTo(botEvents, provider) {
      provider.on('message', (ctx) => {
        void logger.logIncoming(ctx);
      });
      botEvents.on('send_message', (sent) => {
        const media =
          typeof sent.options?.media === 'string' && sent.options.media !== '' ? sent.options.media : undefined;
        void logger.logOutgoing(bot ?? 'bot', sent.from, sent.answer, {
          ...(media === undefined ? {} : { media: [{ url: media, type: mediaType(media) }] }),
          metadata: {
            builderbot: {
              ...(sent.ref === undefined ? {} : { ref: sent.ref }),
              ...(typeof sent.keyword === 'string' ? { keyword: sent.keyword } : {}),
            },
          },
        });
      });
    },
  };
  return logger;
}

/** The provider's id of an incoming message, when its ctx carries one (`key.id` for Baileys). */
function providerId(ctx: IncomingContext): string | undefined {
  const key = ctx.key as { id?: unknown } | undefined;
  if (typeof key?.id === 'string' && key.id !== '') return key.id;
  for (const field of PROVIDER_ID_FIELDS) {
    const value = ctx[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** The ctx's own scalar fields (the provider's extras: `pushName`, `timestamp`, …), as metadata. */
function keptFields(ctx: IncomingContext): JsonObject {
  const kept: JsonObject = {};
  for (const [name, value] of Object.entries(ctx)) {
    if (NOT_KEPT.has(name)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') kept[name] = value;
  }
  return kept;
}

function mediaType(url: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase() ?? '';
  if (['jpg', 'jpeg', 'png', 'gif', 'webp'].includes(extension)) return 'image';
  if (['mp4', 'mov', 'webm'].includes(extension)) return 'video';
  if (['mp3', 'ogg', 'opus', 'm4a', 'wav'].includes(extension)) return 'audio';
  return 'document';
}
