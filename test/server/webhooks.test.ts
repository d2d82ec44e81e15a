/**
 * `/webhooks/*` and `chatstore/ingest`: payloads in the providers' documented shapes (WhatsApp Cloud
 * API, Twilio Messaging, Telegram Bot API), batches, retries and statuses out of order, through the
 * HTTP app on the memory engine and on a real SQLite file; signatures against the documented vectors.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import type { Backend } from '../../src/backend.js';
import { memoryBackend } from '../../src/backends/memory/index.js';
import { sqliteBackend } from '../../src/backends/sqlite/index.js';
import {
  twilioSignature,
  verifySecretToken,
  verifyTwilioSignature,
  verifyWhatsAppSignature,
  whatsappEvents,
} from '../../src/ingest/index.js';
import { whatsappDelivery } from '../fixtures/whatsapp.js';
import { testApp } from './helpers.js';

const APP_SECRET = 'meta-app-secret';
const VERIFY_TOKEN = 'verify-me';
const AUTH_TOKEN = 'twilio-auth-token';
const TELEGRAM_TOKEN = 'telegram-secret-token';
const WEBHOOKS = {
  whatsapp: { appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN },
  twilio: { authToken: AUTH_TOKEN },
  telegram: { secretToken: TELEGRAM_TOKEN },
};

describe('signatures', () => {
  test("Twilio's documented test vector", async () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+14158675309',
      Digits: '1234',
      From: '+14158675309',
      To: '+18005551212',
    };
    expect(await twilioSignature(url, params, '12345')).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(await verifyTwilioSignature(url, params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', '12345')).toBe(true);
    expect(
      await verifyTwilioSignature(url, { ...params, Digits: '9999' }, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', '12345'),
    ).toBe(false);
    expect(await verifyTwilioSignature(url, params, 'not base64!', '12345')).toBe(false);
    expect(await verifyTwilioSignature(url, params, undefined, '12345')).toBe(false);
  });

  test('WhatsApp: the HMAC-SHA256 of the exact bytes, with the sha256= prefix', async () => {
    const body = '{"object":"whatsapp_business_account","entry":[]}';
    const good = `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`;
    expect(await verifyWhatsAppSignature(body, good, APP_SECRET)).toBe(true);
    expect(await verifyWhatsAppSignature(`${body} `, good, APP_SECRET)).toBe(false);
    expect(await verifyWhatsAppSignature(body, good, 'another secret')).toBe(false);
    expect(await verifyWhatsAppSignature(body, good.slice(7), APP_SECRET)).toBe(false);
    expect(await verifyWhatsAppSignature(body, undefined, APP_SECRET)).toBe(false);
  });

  test('a secret token, compared whole', () => {
    expect(verifySecretToken(TELEGRAM_TOKEN, TELEGRAM_TOKEN)).toBe(true);
    expect(verifySecretToken(`${TELEGRAM_TOKEN}x`, TELEGRAM_TOKEN)).toBe(false);
    expect(verifySecretToken(TELEGRAM_TOKEN.slice(1), TELEGRAM_TOKEN)).toBe(false);
    expect(verifySecretToken(undefined, TELEGRAM_TOKEN)).toBe(false);
  });
});

const CUSTOMER = '16315551181';
const OTHER = '447700900123';
const IMAGE_SHA256 = Buffer.from('a'.repeat(64), 'hex').toString('base64');

const INCOMING = [
  {
    from: CUSTOMER,
    id: 'wamid.T1',
    timestamp: '1733500000',
    type: 'text',
    text: { body: '¿Tienen envío a Valencia? 📦' },
  },
  {
    from: CUSTOMER,
    id: 'wamid.I1',
    timestamp: '1733500010',
    type: 'image',
    image: { caption: 'this one', mime_type: 'image/jpeg', sha256: IMAGE_SHA256, id: '1479537139650973' },
  },
  {
    from: CUSTOMER,
    id: 'wamid.R1',
    timestamp: '1733500020',
    type: 'text',
    text: { body: 'yes, that' },
    context: { from: '15550783881', id: 'wamid.OUT1' },
  },
  {
    from: CUSTOMER,
    id: 'wamid.B1',
    timestamp: '1733500030',
    type: 'interactive',
    interactive: { type: 'button_reply', button_reply: { id: 'confirm', title: 'Confirm order' } },
  },
  {
    from: CUSTOMER,
    id: 'wamid.L1',
    timestamp: '1733500040',
    type: 'location',
    location: { latitude: 39.47, longitude: -0.376, name: 'Mercado Central', address: 'Plaza Ciudad de Brujas' },
  },
  {
    from: CUSTOMER,
    id: 'wamid.X1',
    timestamp: '1733500050',
    type: 'reaction',
    reaction: { message_id: 'wamid.OUT1', emoji: '👍' },
  },
  {
    from: OTHER,
    id: 'wamid.O1',
    timestamp: '1733500060',
    type: 'button',
    button: { payload: 'STOP', text: 'Stop promotions' },
  },
  {
    from: OTHER,
    id: 'wamid.C1',
    timestamp: '1733500070',
    type: 'contacts',
    contacts: [
      { name: { formatted_name: 'Ana Ruiz', first_name: 'Ana' }, phones: [{ phone: '+34 600 000 000', type: 'CELL' }] },
    ],
  },
];

async function sqliteStoreBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'chatstore-webhooks-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return sqliteBackend({ path: join(dir, 'chat.db') });
}

describe.each([
  ['memory', async () => memoryBackend()],
  ['sqlite', sqliteStoreBackend],
] as const)('webhooks on %s', (_engine, backend) => {
  async function app() {
    return testApp({ webhooks: WEBHOOKS }, { backend: await backend() });
  }
  const signed = (body: string) => ({
    'content-type': 'application/json',
    'x-hub-signature-256': `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`,
  });

  test('WhatsApp: the subscription check answers the challenge for the verify token only', async () => {
    const { call } = await app();
    const ok = await call(
      'GET',
      `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect([ok.status, ok.text]).toEqual([200, '1158201444']);
    const wrong = await call('GET', '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1');
    expect([wrong.status, wrong.body.error.code]).toEqual([403, 'PERMISSION_DENIED']);
  });

  test('WhatsApp: a batch of every kind of message, one append per customer; a retry stores nothing', async () => {
    const { call, store } = await app();
    const body = whatsappDelivery({
      contacts: [{ profile: { name: 'Kerry Fisher' }, wa_id: CUSTOMER }],
      messages: INCOMING,
    });
    const first = await call('POST', '/webhooks/whatsapp', { rawBody: body, headers: signed(body) });
    expect([first.status, first.body]).toEqual([
      200,
      { stored: 8, duplicates: 0, statuses: 0, unknownStatuses: 0, edited: 0 },
    ]);
    const messages = await store.recent(`+${CUSTOMER}`, 10);
    expect(messages.map((m) => [m.externalId, m.content])).toEqual([
      ['wamid.T1', '¿Tienen envío a Valencia? 📦'],
      ['wamid.I1', 'this one'],
      ['wamid.R1', 'yes, that'],
      ['wamid.B1', 'Confirm order'],
      ['wamid.L1', ''],
      ['wamid.X1', '👍'],
    ]);
    expect(messages[0]).toMatchObject({
      role: 'user',
      direction: 'incoming',
      senderId: `+${CUSTOMER}`,
      recipientId: '+15550783881',
      createdAt: new Date(1733500000 * 1000).toISOString(),
      metadata: { whatsapp: { phoneNumberId: '106540352242922', type: 'text' } },
    });
    expect(messages[1]?.media).toEqual([
      {
        url: 'whatsapp-media:1479537139650973',
        type: 'image',
        mimeType: 'image/jpeg',
        sha256: 'a'.repeat(64),
        providerId: '1479537139650973',
      },
    ]);
    expect(messages[2]).toMatchObject({
      replyTo: 'wamid.OUT1',
      metadata: { whatsapp: { context: { from: '15550783881' } } },
    });
    expect(messages[3]?.metadata?.whatsapp).toMatchObject({ interactive: { button_reply: { id: 'confirm' } } });
    expect(messages[4]?.metadata?.whatsapp).toMatchObject({ location: { latitude: 39.47, name: 'Mercado Central' } });
    expect(messages[5]).toMatchObject({ replyTo: 'wamid.OUT1', metadata: { whatsapp: { reaction: { emoji: '👍' } } } });
    const other = await store.recent(`+${OTHER}`, 10);
    expect(other.map((m) => m.content)).toEqual(['Stop promotions', '']);
    expect(other[1]?.metadata?.whatsapp).toMatchObject({ contacts: [{ name: { formatted_name: 'Ana Ruiz' } }] });
    expect(await store.getConversation(`+${CUSTOMER}`)).toMatchObject({
      type: 'private',
      channel: 'whatsapp',
      participants: expect.arrayContaining([expect.objectContaining({ id: `+${CUSTOMER}`, name: 'Kerry Fisher' })]),
    });

    const retry = await call('POST', '/webhooks/whatsapp', { rawBody: body, headers: signed(body) });
    expect(retry.body).toEqual({ stored: 0, duplicates: 8, statuses: 0, unknownStatuses: 0, edited: 0 });
    expect(await store.recent(`+${CUSTOMER}`, 10)).toEqual(messages);
  });

  test('WhatsApp: statuses out of order move forward only; failed keeps its error; unknown ones are counted', async () => {
    const { call, store } = await app();
    for (const id of ['wamid.OUT1', 'wamid.OUT2']) {
      await store.append(`+${CUSTOMER}`, {
        role: 'assistant',
        content: 'Sí, enviamos 🚚',
        externalId: id,
        status: 'queued',
      });
    }
    const status = (id: string, name: string, seconds: number, extra: Record<string, unknown> = {}) => ({
      id,
      status: name,
      timestamp: String(seconds),
      recipient_id: CUSTOMER,
      ...extra,
    });
    // Read arrives first, then delivered, then sent; each a separate webhook.
    for (const item of [
      status('wamid.OUT1', 'read', 1733500300),
      status('wamid.OUT1', 'delivered', 1733500200),
      status('wamid.OUT1', 'sent', 1733500100),
    ]) {
      const body = whatsappDelivery({ statuses: [item] });
      expect((await call('POST', '/webhooks/whatsapp', { rawBody: body, headers: signed(body) })).status).toBe(200);
    }
    const batch = whatsappDelivery({
      statuses: [
        status('wamid.OUT2', 'failed', 1733500400, {
          errors: [
            {
              code: 131026,
              title: 'Message undeliverable',
              message: 'Message undeliverable',
              error_data: { details: 'Receiver is incapable of receiving this message' },
            },
          ],
        }),
        status('wamid.SENT-ELSEWHERE', 'delivered', 1733500500),
      ],
    });
    const applied = await call('POST', '/webhooks/whatsapp', { rawBody: batch, headers: signed(batch) });
    expect(applied.body).toEqual({ stored: 0, duplicates: 0, statuses: 1, unknownStatuses: 1, edited: 0 });
    expect(await store.getByExternalId('wamid.OUT1', `+${CUSTOMER}`)).toMatchObject({
      status: 'read',
      statusAt: {
        sent: new Date(1733500100_000).toISOString(),
        delivered: new Date(1733500200_000).toISOString(),
        read: new Date(1733500300_000).toISOString(),
      },
    });
    expect(await store.getByExternalId('wamid.OUT2', `+${CUSTOMER}`)).toMatchObject({
      status: 'failed',
      error: {
        code: '131026',
        message: 'Message undeliverable: Receiver is incapable of receiving this message',
      },
    });
  });

  test('WhatsApp: a bad signature is 401 and stores nothing; an unknown shape is 400 with its path, logged without content', async () => {
    const { call, store, logs } = await app();
    const body = whatsappDelivery({ messages: INCOMING });
    const forged = await call('POST', '/webhooks/whatsapp', {
      rawBody: body,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
    });
    expect([forged.status, forged.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const unsigned = await call('POST', '/webhooks/whatsapp', {
      rawBody: body,
      headers: { 'content-type': 'application/json' },
    });
    expect(unsigned.status).toBe(401);
    const broken = whatsappDelivery({
      messages: [
        { from: CUSTOMER, id: 'wamid.Z1', timestamp: 'yesterday', type: 'text', text: { body: 'secret words' } },
      ],
    });
    const bad = await call('POST', '/webhooks/whatsapp', { rawBody: broken, headers: signed(broken) });
    expect([bad.status, bad.body.error.code, bad.body.error.path]).toEqual([
      400,
      'INVALID_ARGUMENT',
      'entry[0].changes[0].value.messages[0].timestamp',
    ]);
    const logged = logs.find((entry) => entry.message === 'webhook payload of an unknown shape');
    expect(logged?.fields).toMatchObject({
      provider: 'whatsapp',
      path: 'entry[0].changes[0].value.messages[0].timestamp',
    });
    expect(JSON.stringify(logs)).not.toContain('secret words');
    expect((await store.listConversations()).conversations).toEqual([]);
  });

  test('Twilio: an SMS with media and a WhatsApp message in; status callbacks out of order; signed over the public URL', async () => {
    const { call, store } = await testApp(
      { webhooks: { twilio: { authToken: AUTH_TOKEN, publicUrl: 'https://bot.example.com' } } },
      { backend: await backend() },
    );
    const post = async (params: Record<string, string>, signature?: string) => {
      const url = 'https://bot.example.com/webhooks/twilio';
      return call('POST', '/webhooks/twilio', {
        rawBody: new URLSearchParams(params).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature ?? (await twilioSignature(url, params, AUTH_TOKEN)),
        },
      });
    };
    const sms = {
      ToCountry: 'US',
      SmsMessageSid: 'SM8f1e4d8c6b1a4f0f9c3a2b1e0d9c8b7a',
      NumMedia: '2',
      SmsSid: 'SM8f1e4d8c6b1a4f0f9c3a2b1e0d9c8b7a',
      SmsStatus: 'received',
      Body: 'Here are the photos',
      To: '+15017250604',
      NumSegments: '1',
      MessageSid: 'SM8f1e4d8c6b1a4f0f9c3a2b1e0d9c8b7a',
      AccountSid: 'AC00000000000000000000000000000000',
      From: '+15558675310',
      MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/SM8f/Media/ME1',
      MediaContentType0: 'image/jpeg',
      MediaUrl1: 'https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/SM8f/Media/ME2',
      MediaContentType1: 'application/pdf',
      ApiVersion: '2010-04-01',
    };
    const first = await post(sms);
    expect([first.status, first.headers.get('content-type'), first.text]).toEqual([
      200,
      'text/xml; charset=utf-8',
      '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
    ]);
    expect((await post(sms)).status).toBe(200);
    const [message] = await store.recent('+15558675310', 10);
    expect(message).toMatchObject({
      externalId: sms.MessageSid,
      content: 'Here are the photos',
      senderId: '+15558675310',
      recipientId: '+15017250604',
      media: [
        { url: sms.MediaUrl0, type: 'image', mimeType: 'image/jpeg' },
        { url: sms.MediaUrl1, type: 'application', mimeType: 'application/pdf' },
      ],
      metadata: { twilio: { channel: 'sms', AccountSid: sms.AccountSid, NumSegments: '1', ToCountry: 'US' } },
    });
    expect(await store.recent('+15558675310', 10)).toHaveLength(1);

    await post({
      MessageSid: 'SMwa0000000000000000000000000000001',
      From: 'whatsapp:+5215512345678',
      To: 'whatsapp:+14155238886',
      Body: 'Hola 👋',
      NumMedia: '0',
      ProfileName: 'Lupita',
      WaId: '5215512345678',
      SmsStatus: 'received',
    });
    expect(await store.recent('+5215512345678', 1)).toMatchObject([
      { content: 'Hola 👋', metadata: { twilio: { channel: 'whatsapp', WaId: '5215512345678' } } },
    ]);
    expect((await store.getConversation('+5215512345678'))?.channel).toBe('whatsapp');
    expect((await store.getConversation('+15558675310'))?.channel).toBe('sms');

    await store.append('+15558675310', { role: 'assistant', content: 'Got them', externalId: 'SMout1' });
    await store.append('+15558675310', { role: 'assistant', content: 'And this?', externalId: 'SMout2' });
    for (const MessageStatus of ['delivered', 'sent', 'queued']) {
      expect(
        (await post({ MessageSid: 'SMout1', MessageStatus, To: '+15558675310', From: '+15017250604' })).status,
      ).toBe(200);
    }
    await post({
      MessageSid: 'SMout2',
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
      ErrorMessage: 'Unreachable destination handset',
      To: '+15558675310',
      From: '+15017250604',
    });
    expect(await store.getByExternalId('SMout1', '+15558675310')).toMatchObject({ status: 'delivered' });
    expect(await store.getByExternalId('SMout2', '+15558675310')).toMatchObject({
      status: 'failed',
      error: { code: '30003', message: 'Unreachable destination handset' },
    });

    // Signed over another URL (the proxy's inside address), or not at all: 401, nothing stored.
    const inside = { ...sms, MessageSid: 'SMforged', SmsSid: 'SMforged', SmsMessageSid: 'SMforged' };
    const wrongUrl = await post(inside, await twilioSignature('http://localhost/webhooks/twilio', inside, AUTH_TOKEN));
    expect(wrongUrl.status).toBe(401);
    expect(await store.getByExternalId('SMforged')).toBeUndefined();
  });

  test('Telegram: messages by chat, replies, media, message_id 0, edits and channel posts; a wrong secret is 401', async () => {
    const { call, store } = await app();
    const post = (update: unknown, token = TELEGRAM_TOKEN) =>
      call('POST', '/webhooks/telegram', {
        body: update,
        headers: { 'x-telegram-bot-api-secret-token': token },
      });
    const user = {
      id: 111222333,
      is_bot: false,
      first_name: 'Iván',
      last_name: 'Petrov',
      username: 'ivan',
      language_code: 'ru',
    };
    const privateChat = { id: 111222333, first_name: 'Iván', last_name: 'Petrov', username: 'ivan', type: 'private' };
    const group = { id: -1001234567890, title: 'Поддержка', type: 'supergroup' };
    const updates = [
      {
        update_id: 900001,
        message: {
          message_id: 17,
          from: user,
          chat: privateChat,
          date: 1733600000,
          text: 'Привет! /start',
          entities: [{ offset: 8, length: 6, type: 'bot_command' }],
        },
      },
      {
        update_id: 900002,
        message: {
          message_id: 18,
          from: user,
          chat: privateChat,
          date: 1733600010,
          caption: 'my receipt',
          photo: [
            { file_id: 'AgAC-small', file_unique_id: 'u1', width: 90, height: 67, file_size: 1200 },
            { file_id: 'AgAC-large', file_unique_id: 'u2', width: 1280, height: 960, file_size: 98304 },
          ],
        },
      },
      {
        update_id: 900003,
        message: {
          message_id: 5,
          from: user,
          chat: group,
          date: 1733600020,
          text: 'same here',
          reply_to_message: { message_id: 4, chat: group, date: 1733600000 },
        },
      },
      {
        update_id: 900004,
        message: { message_id: 0, from: user, chat: group, date: 1733600030, text: 'a service message' },
      },
      {
        update_id: 900005,
        channel_post: {
          message_id: 77,
          sender_chat: { id: -1009876543210, title: 'News', type: 'channel' },
          chat: { id: -1009876543210, title: 'News', type: 'channel' },
          date: 1733600040,
          text: 'Nueva versión 🎉',
        },
      },
      { update_id: 900006, callback_query: { id: '4382bfdwdsb323b2d9', from: user, data: 'confirm' } },
    ];
    for (const update of updates) expect((await post(update)).status).toBe(200);
    expect((await post(updates[0])).body).toMatchObject({ stored: 0, duplicates: 1 });

    const direct = await store.recent('111222333', 10);
    expect(direct.map((m) => [m.externalId, m.content, m.senderId])).toEqual([
      ['111222333:17', 'Привет! /start', '111222333'],
      ['111222333:18', 'my receipt', '111222333'],
    ]);
    expect(direct[1]?.media).toEqual([
      { url: 'telegram-file:AgAC-large', type: 'image', providerId: 'AgAC-large', size: 98304 },
    ]);
    expect(direct[0]?.metadata?.telegram).toMatchObject({
      updateId: 900001,
      chatType: 'private',
      from: { username: 'ivan' },
    });
    expect(await store.getConversation('111222333')).toMatchObject({
      type: 'private',
      title: 'Iván Petrov',
      channel: 'telegram',
    });
    const inGroup = await store.recent(String(group.id), 10);
    expect(inGroup.map((m) => [m.externalId, m.replyTo])).toEqual([
      [`${group.id}:5`, `${group.id}:4`],
      [`${group.id}:update:900004`, undefined],
    ]);
    expect(await store.getConversation(String(group.id))).toMatchObject({ type: 'group', title: 'Поддержка' });
    expect(await store.recent('-1009876543210', 1)).toMatchObject([
      { content: 'Nueva versión 🎉', senderId: '-1009876543210' },
    ]);

    const edit = {
      update_id: 900007,
      edited_message: {
        message_id: 17,
        from: user,
        chat: privateChat,
        date: 1733600000,
        edit_date: 1733600100,
        text: 'Привет!',
      },
    };
    expect((await post(edit)).body).toMatchObject({ edited: 1 });
    expect((await post(edit)).body).toMatchObject({ edited: 0 });
    expect(await store.getByExternalId('111222333:17', '111222333')).toMatchObject({
      content: 'Привет!',
      editedAt: expect.any(String),
    });
    // An edit of a message never stored is stored as it is now.
    const unseen = {
      update_id: 900008,
      edited_message: {
        message_id: 3,
        from: user,
        chat: privateChat,
        date: 1733500000,
        edit_date: 1733600200,
        text: 'old, edited',
      },
    };
    expect((await post(unseen)).body).toMatchObject({ stored: 1 });

    const wrong = await post(
      { update_id: 900009, message: { message_id: 19, from: user, chat: privateChat, date: 1733600300, text: 'x' } },
      'guess',
    );
    expect(wrong.status).toBe(401);
    expect(await store.getByExternalId('111222333:19')).toBeUndefined();
    const bad = await post({
      update_id: 900010,
      message: { message_id: 20, chat: { type: 'private' }, date: 1733600300, text: 'x' },
    });
    expect([bad.status, bad.body.error.path]).toEqual([400, 'message.chat.id']);
  });

  test('a provider without its secret answers 501', async () => {
    const { call } = testApp({}, { backend: await backend() });
    const res = await call('POST', '/webhooks/telegram', { body: { update_id: 1 } });
    expect([res.status, res.body.error.code]).toEqual([501, 'UNSUPPORTED']);
    expect((await call('GET', '/webhooks/whatsapp?hub.mode=subscribe')).status).toBe(501);
  });
});

test('whatsappEvents skips changes that carry no message, and refuses a body of another object', () => {
  expect(
    whatsappEvents({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED' } }] }],
    }),
  ).toEqual([]);
  expect(() => whatsappEvents({ object: 'page', entry: [] })).toThrow(/object must be/);
});
