/**
 * Runs examples/whatsapp-webhook-bot as a user would (`npx tsx`, the package by its own name, so
 * after a build) on a SQLite file, with a local stand-in for the Graph API, and checks what Meta's
 * webhooks left in the store and what the bot sent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { openStore } from '../../src/open.js';
import { BUSINESS, whatsappDelivery } from '../fixtures/whatsapp.js';

const root = join(import.meta.dirname, '..', '..');
const APP_SECRET = 'example-app-secret';
const VERIFY_TOKEN = 'example-verify-token';
const ACCESS_TOKEN = 'example-access-token';
const CUSTOMER = '16315551181';

interface GraphCall {
  method: string | undefined;
  path: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

/**
 * The Graph API's send endpoint as Meta answers it: every call recorded, each given a new wamid;
 * or, `refusing`, each refused as Meta refuses an expired access token.
 */
async function fakeGraphApi(refusing = false): Promise<{ url: string; calls: GraphCall[] }> {
  const calls: GraphCall[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to: string };
    calls.push({ method: request.method, path: request.url, authorization: request.headers.authorization, body });
    response.setHeader('content-type', 'application/json');
    if (refusing) {
      response.statusCode = 401;
      response.end(
        JSON.stringify({ error: { message: 'Error validating access token', type: 'OAuthException', code: 190 } }),
      );
      return;
    }
    response.end(
      JSON.stringify({
        messaging_product: 'whatsapp',
        contacts: [{ input: body.to, wa_id: CUSTOMER }],
        messages: [{ id: `wamid.REPLY${calls.length}` }],
      }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

/** Starts the example on a free port and resolves once it prints its webhook URL. */
async function startBot(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; webhook: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples/whatsapp-webhook-bot/main.ts')], {
    cwd: root,
    env: { ...process.env, PORT: '0', ...env },
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  const webhook = await new Promise<string>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the bot exited (${code}) before listening: ${stderr}`)));
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const url = /WhatsApp webhook on (\S+)/.exec(stdout)?.[1];
      if (url !== undefined) resolve(url);
    });
  });
  return { child, webhook, stderr: () => stderr };
}

const signed = (body: string, secret = APP_SECRET) => ({
  'content-type': 'application/json',
  'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
});

const text = (id: string, body: string, timestamp: string) =>
  whatsappDelivery({
    contacts: [{ profile: { name: 'Ana' }, wa_id: CUSTOMER }],
    messages: [{ from: CUSTOMER, id, timestamp, type: 'text', text: { body } }],
  });

const status = (id: string, name: string, timestamp: string) =>
  whatsappDelivery({ statuses: [{ id, status: name, timestamp, recipient_id: CUSTOMER }] });

async function botOn(graph: { url: string }): Promise<{ bot: Awaited<ReturnType<typeof startBot>>; storeUrl: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'chatstore-example-whatsapp-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const storeUrl = `sqlite://${join(dir, 'bot.db')}`;
  const bot = await startBot({
    CHATSTORE_URL: storeUrl,
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
    WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
    GRAPH_API_URL: `${graph.url}/v21.0`,
  });
  return { bot, storeUrl };
}

async function stop(bot: Awaited<ReturnType<typeof startBot>>): Promise<void> {
  bot.child.kill('SIGTERM');
  const [code] = await once(bot.child, 'exit');
  expect(code).toBe(0);
}

test('verifies the subscription, stores each message once, answers once through the Graph API, applies statuses', async () => {
  const graph = await fakeGraphApi();
  const { bot, storeUrl } = await botOn(graph);
  const post = async (body: string, headers: Record<string, string>) =>
    (await fetch(bot.webhook, { method: 'POST', body, headers })).status;

  const verification = await fetch(
    `${bot.webhook}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
  );
  expect([verification.status, await verification.text()]).toEqual([200, '1158201444']);
  const wrongToken = await fetch(`${bot.webhook}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1`);
  expect(wrongToken.status).toBe(403);

  const hours = text('wamid.IN1', 'What are your opening hours?', '1733500000');
  expect(await post(hours, signed(hours))).toBe(200);
  // Meta retries a delivery it is unsure of: the same bytes, the same signature.
  expect(await post(hours, signed(hours))).toBe(200);
  const forged = text('wamid.FORGED', 'What are your opening hours?', '1733500001');
  expect(await post(forged, signed(forged, 'not the app secret'))).toBe(401);
  expect(await post(forged, { 'content-type': 'application/json' })).toBe(401);
  const delivery = text('wamid.IN2', 'Do you deliver to Valencia?', '1733500060');
  expect(await post(delivery, signed(delivery))).toBe(200);

  for (const body of [
    status('wamid.REPLY1', 'sent', '1733500002'),
    status('wamid.REPLY1', 'read', '1733500030'),
    // Arrives after `read`: recorded, but the status does not move back.
    status('wamid.REPLY1', 'delivered', '1733500003'),
    status('wamid.REPLY2', 'delivered', '1733500062'),
  ]) {
    expect(await post(body, signed(body))).toBe(200);
  }

  await stop(bot);
  expect(bot.stderr()).toBe('');

  const hoursAnswer = 'Hi, this is the shop’s assistant! We are open Monday to Saturday, 9:00 to 19:00.';
  const deliveryAnswer = 'We deliver anywhere in Spain in 2 working days, free over 50 €.';
  const sent = (body: string) => ({
    method: 'POST',
    path: `/v21.0/${BUSINESS.phone_number_id}/messages`,
    authorization: `Bearer ${ACCESS_TOKEN}`,
    body: {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: `+${CUSTOMER}`,
      type: 'text',
      text: { body },
    },
  });
  expect(graph.calls).toEqual([sent(hoursAnswer), sent(deliveryAnswer)]);

  const store = await openStore(storeUrl);
  onTestFinished(() => store.close());
  const messages = await store.recent(`+${CUSTOMER}`, 10);
  expect(
    messages.map(({ seq, role, direction, externalId, senderId, recipientId, content, replyTo, status, statusAt }) => ({
      seq,
      role,
      direction,
      externalId,
      senderId,
      recipientId,
      content,
      replyTo,
      status,
      statusAt,
    })),
  ).toEqual([
    {
      seq: 1,
      role: 'user',
      direction: 'incoming',
      externalId: 'wamid.IN1',
      senderId: `+${CUSTOMER}`,
      recipientId: `+${BUSINESS.display_phone_number}`,
      content: 'What are your opening hours?',
      replyTo: undefined,
      status: undefined,
      statusAt: undefined,
    },
    {
      seq: 2,
      role: 'assistant',
      direction: 'outgoing',
      externalId: 'wamid.REPLY1',
      senderId: `+${BUSINESS.display_phone_number}`,
      recipientId: `+${CUSTOMER}`,
      content: hoursAnswer,
      replyTo: 'wamid.IN1',
      status: 'read',
      statusAt: {
        queued: messages[1]?.createdAt,
        sent: '2024-12-06T15:46:42.000Z',
        delivered: '2024-12-06T15:46:43.000Z',
        read: '2024-12-06T15:47:10.000Z',
      },
    },
    {
      seq: 3,
      role: 'user',
      direction: 'incoming',
      externalId: 'wamid.IN2',
      senderId: `+${CUSTOMER}`,
      recipientId: `+${BUSINESS.display_phone_number}`,
      content: 'Do you deliver to Valencia?',
      replyTo: undefined,
      status: undefined,
      statusAt: undefined,
    },
    {
      seq: 4,
      role: 'assistant',
      direction: 'outgoing',
      externalId: 'wamid.REPLY2',
      senderId: `+${BUSINESS.display_phone_number}`,
      recipientId: `+${CUSTOMER}`,
      content: deliveryAnswer,
      replyTo: 'wamid.IN2',
      status: 'delivered',
      statusAt: { queued: messages[3]?.createdAt, delivered: '2024-12-06T15:47:42.000Z' },
    },
  ]);
  expect(await store.getByExternalId('wamid.FORGED')).toBeUndefined();
  expect(await store.getConversation(`+${CUSTOMER}`)).toMatchObject({
    type: 'private',
    channel: 'whatsapp',
    participants: [
      { id: `+${BUSINESS.display_phone_number}`, kind: 'bot' },
      { id: `+${CUSTOMER}`, kind: 'human', name: 'Ana' },
    ],
  });
});

test('an answer the Graph API refuses is stored as failed, and a retry of the webhook does not send it again', async () => {
  const graph = await fakeGraphApi(true);
  const { bot, storeUrl } = await botOn(graph);
  const hours = text('wamid.IN1', 'When are you open?', '1733500000');
  for (let delivery = 0; delivery < 2; delivery++) {
    expect((await fetch(bot.webhook, { method: 'POST', body: hours, headers: signed(hours) })).status).toBe(200);
  }
  await stop(bot);
  expect(bot.stderr()).toContain('could not answer wamid.IN1');
  expect(graph.calls).toHaveLength(1);

  const store = await openStore(storeUrl);
  onTestFinished(() => store.close());
  const messages = await store.recent(`+${CUSTOMER}`, 10);
  expect(
    messages.map(({ role, externalId, content, replyTo, status, error }) => ({
      role,
      externalId,
      content,
      replyTo,
      status,
      error,
    })),
  ).toEqual([
    {
      role: 'user',
      externalId: 'wamid.IN1',
      content: 'When are you open?',
      replyTo: undefined,
      status: undefined,
      error: undefined,
    },
    {
      role: 'assistant',
      externalId: undefined,
      content: 'Hi, this is the shop’s assistant! We are open Monday to Saturday, 9:00 to 19:00.',
      replyTo: 'wamid.IN1',
      status: 'failed',
      error: { message: 'Error: Graph API 401: Error validating access token' },
    },
  ]);
});
