/**
 * Provider webhooks (`chatstore/ingest`), each on when its secret is configured
 * (`AppOptions.webhooks`; `chatstore serve` reads them from the environment) and 501 otherwise:
 * - `GET /webhooks/whatsapp`: Meta's subscription check (`hub.mode`, `hub.verify_token`,
 *   `hub.challenge`); `POST /webhooks/whatsapp`: messages and statuses, signed `X-Hub-Signature-256`;
 * - `POST /webhooks/twilio`: messages and status callbacks, signed `X-Twilio-Signature` over the
 *   public URL (`publicUrl` behind a proxy) and the form parameters; answers empty TwiML;
 * - `POST /webhooks/telegram`: updates, with `X-Telegram-Bot-Api-Secret-Token`.
 * The signature is the authentication (no API key). A bad one is 401 and stores nothing; a payload
 * of an unknown shape is 400 with the path that failed (logged, without content); 200 comes only
 * once the store has acknowledged every write, so a provider retries anything not stored.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ChatStoreError, isChatStoreError } from '../../errors.js';
import { applyEvents, type IngestResult } from '../../ingest/apply.js';
import type { IngestEvent } from '../../ingest/events.js';
import { verifySecretToken, verifyTwilioSignature, verifyWhatsAppSignature } from '../../ingest/signatures.js';
import { telegramEvents } from '../../ingest/telegram.js';
import { formParams, twilioEvents } from '../../ingest/twilio.js';
import { whatsappEvents } from '../../ingest/whatsapp.js';
import type { ServerEnv } from '../env.js';
import { permissionDenied, unauthenticated } from '../errors.js';
import { type App, errors, json, publicAccess, type RouteDeps, route } from './route-kit.js';

/** The providers' secrets; a provider without its secret is off (501). */
export interface WebhookSecrets {
  /** Meta app secret (signatures) and the verify token given when subscribing the webhook. */
  whatsapp?: { appSecret: string; verifyToken: string };
  /** Twilio auth token; `publicUrl` is the origin Twilio calls (`https://bot.example.com`) when a proxy stands in front. */
  twilio?: { authToken: string; publicUrl?: string };
  /** The `secret_token` given to Telegram's `setWebhook`. */
  telegram?: { secretToken: string };
}

const IngestResultSchema = z
  .object({
    stored: z.number().int(),
    duplicates: z.number().int(),
    statuses: z.number().int(),
    unknownStatuses: z.number().int(),
    edited: z.number().int(),
  })
  .openapi('IngestResult');

export function registerWebhookRoutes(app: App, deps: RouteDeps, secrets: WebhookSecrets = {}): void {
  const { store, logger } = deps;
  const off = (provider: string, variable: string): never => {
    throw new ChatStoreError('UNSUPPORTED', `the ${provider} webhook is off: set ${variable}`);
  };
  /** Parses and applies, logging an unknown shape by its path only. */
  const ingest = async (c: Context<ServerEnv>, provider: string, parse: () => IngestEvent[]): Promise<IngestResult> => {
    let events: IngestEvent[];
    try {
      events = parse();
    } catch (error) {
      if (isChatStoreError(error) && error.code === 'INVALID_ARGUMENT') {
        logger.warn(
          { requestId: c.get('requestId'), provider, path: error.path },
          'webhook payload of an unknown shape',
        );
      }
      throw error;
    }
    return applyEvents(store, events);
  };

  app.openapi(
    route({
      ...publicAccess(),
      method: 'get',
      path: '/webhooks/whatsapp',
      operationId: 'verifyWhatsappWebhook',
      tags: ['webhooks'],
      summary: 'WhatsApp subscription check',
      description:
        "Meta's verification request: answers `hub.challenge` when `hub.verify_token` is the configured one.",
      request: {
        query: z.object({
          'hub.mode': z.string().optional(),
          'hub.verify_token': z.string().optional(),
          'hub.challenge': z.string().optional(),
        }),
      },
      responses: {
        200: { description: 'the challenge', content: { 'text/plain': { schema: z.string() } } },
        ...errors(501),
      },
    }),
    async (c) => {
      const whatsapp = secrets.whatsapp ?? off('WhatsApp', 'CHATSTORE_WHATSAPP_APP_SECRET');
      const query = c.req.valid('query');
      const token = query['hub.verify_token'];
      if (query['hub.mode'] !== 'subscribe' || token === undefined || !verifySecretToken(token, whatsapp.verifyToken)) {
        throw permissionDenied('hub.verify_token is not the configured verify token');
      }
      return c.text(query['hub.challenge'] ?? '', 200);
    },
  );

  app.openapi(
    route({
      ...publicAccess(),
      method: 'post',
      path: '/webhooks/whatsapp',
      operationId: 'whatsappWebhook',
      tags: ['webhooks'],
      summary: 'WhatsApp Cloud API events',
      description:
        "Messages (appended, their wamid the external id) and statuses (applied forward only), signed with `X-Hub-Signature-256`. The body is Meta's JSON as sent: the signature covers its exact bytes, so it is read raw, not validated by a schema.",
      responses: { 200: json(IngestResultSchema, 'what was stored'), ...errors(501) },
    }),
    async (c) => {
      const whatsapp = secrets.whatsapp ?? off('WhatsApp', 'CHATSTORE_WHATSAPP_APP_SECRET');
      const raw = new Uint8Array(await c.req.raw.arrayBuffer());
      if (!(await verifyWhatsAppSignature(raw, c.req.header('x-hub-signature-256'), whatsapp.appSecret))) {
        throw unauthenticated('X-Hub-Signature-256 does not match the body signed with the app secret');
      }
      return c.json(await ingest(c, 'whatsapp', () => whatsappEvents(jsonOf(raw))), 200);
    },
  );

  app.openapi(
    route({
      ...publicAccess(),
      method: 'post',
      path: '/webhooks/twilio',
      operationId: 'twilioWebhook',
      tags: ['webhooks'],
      summary: 'Twilio messages and status callbacks',
      description:
        "Twilio's form-encoded parameters, signed with `X-Twilio-Signature` over the public URL and the parameters. Answers empty TwiML (no reply).",
      responses: {
        200: { description: 'empty TwiML, once stored', content: { 'text/xml': { schema: z.string() } } },
        ...errors(501),
      },
    }),
    async (c) => {
      const twilio = secrets.twilio ?? off('Twilio', 'CHATSTORE_TWILIO_AUTH_TOKEN');
      const params = formParams(await c.req.raw.text());
      const requested = new URL(c.req.url);
      const url =
        twilio.publicUrl === undefined
          ? requested.href
          : `${twilio.publicUrl.replace(/\/$/, '')}${requested.pathname}${requested.search}`;
      if (!(await verifyTwilioSignature(url, params, c.req.header('x-twilio-signature'), twilio.authToken))) {
        throw unauthenticated(
          'X-Twilio-Signature does not match this URL and these parameters signed with the auth token',
        );
      }
      await ingest(c, 'twilio', () => twilioEvents(params));
      return c.body('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', 200, {
        'Content-Type': 'text/xml; charset=utf-8',
      }) as never;
    },
  );

  app.openapi(
    route({
      ...publicAccess(),
      method: 'post',
      path: '/webhooks/telegram',
      operationId: 'telegramWebhook',
      tags: ['webhooks'],
      summary: 'Telegram updates',
      description:
        "Messages, channel posts and their edits, with `X-Telegram-Bot-Api-Secret-Token`. The body is Telegram's `Update` as sent.",
      responses: { 200: json(IngestResultSchema, 'what was stored'), ...errors(501) },
    }),
    async (c) => {
      const telegram = secrets.telegram ?? off('Telegram', 'CHATSTORE_TELEGRAM_SECRET_TOKEN');
      if (!verifySecretToken(c.req.header('x-telegram-bot-api-secret-token'), telegram.secretToken)) {
        throw unauthenticated('X-Telegram-Bot-Api-Secret-Token is not the configured secret token');
      }
      const raw = new Uint8Array(await c.req.raw.arrayBuffer());
      return c.json(await ingest(c, 'telegram', () => telegramEvents(jsonOf(raw))), 200);
    },
  );
}

function jsonOf(raw: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new ChatStoreError('INVALID_ARGUMENT', 'the body is not JSON', { path: 'body' });
  }
}
