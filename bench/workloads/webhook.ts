/**
 * webhook (opt-in, `--workloads webhook`): a WhatsApp Cloud API delivery of 100 messages of one
 * customer, end to end through the app's `/webhooks/whatsapp` (routing, signature check over the
 * raw body, JSON parse, conversion, one append), against a plain `append` of the same 100 messages
 * (already converted, with the same conversation attributes) on the same store; the two alternate, request by request. In process
 * (`app.request`), so no socket is measured: what the ingest path adds to the store's own append.
 */
import { createHmac } from 'node:crypto';
import type { MessageEvent } from '../../src/ingest/events.js';
import { whatsappEvents } from '../../src/ingest/whatsapp.js';
import { openStore } from '../../src/open.js';
import { createApp } from '../../src/server/app.js';
import { whatsappDelivery } from '../../test/fixtures/whatsapp.js';
import { now, summarize } from '../harness.js';
import type { Row, Workload } from '../workload.js';

const APP_SECRET = 'bench-app-secret';
const PER_REQUEST = 100;
const TEXTS = ['¿Tienen envío a Valencia? 📦', 'Your order #4411 ships tomorrow', 'Спасибо!', 'ありがとう 🙏', 'ok'];

/** One customer's delivery of `PER_REQUEST` text messages, as Meta sends it. */
function payload(customer: string, request: number): string {
  const messages = Array.from({ length: PER_REQUEST }, (_, i) => ({
    from: customer,
    id: `wamid.bench.${customer}.${i}`,
    timestamp: String(1_733_500_000 + request * PER_REQUEST + i),
    type: 'text',
    text: { body: TEXTS[i % TEXTS.length] },
  }));
  return whatsappDelivery({ contacts: [{ profile: { name: 'Bench' }, wa_id: customer }], messages });
}

export const webhookWorkload: Workload = {
  id: 'webhook',
  title: 'webhook: a 100-message WhatsApp delivery through /webhooks/whatsapp, against a plain append',
  method: (sizes) =>
    `${sizes.webhookRequests} deliveries of ${PER_REQUEST} text messages of one customer each (a new customer each time), POSTed in process (app.request) to /webhooks/whatsapp with their X-Hub-Signature-256: signature check, parse, conversion and one append, answered once stored; alternating with store.append of the same ${PER_REQUEST} messages, converted beforehand, into another new conversation created with the same attributes (type, participants). req/s = deliveries (or append calls) per second, one at a time; ratio = webhook ÷ append. Bare chatstore contenders only.`,
  columns: [
    { key: 'path', label: 'path' },
    { key: 'requestsPerSecond', label: 'req/s' },
    { key: 'msgPerSec', label: 'msg/s' },
    { key: 'p50', label: 'p50 ms', digits: 2 },
    { key: 'p99', label: 'p99 ms', digits: 2 },
    { key: 'ratio', label: 'vs append', digits: 2 },
  ],
  async run(contender, context) {
    const url = contender.storeUrl;
    if (url === undefined || contender.kind !== 'chatstore')
      return [{ status: 'n/a', note: 'chatstore only', cells: {} }];
    const { workspace, dispose } = await context.workspace();
    const storeUrl = url(workspace);
    if (/[?&](maxActiveConversations|cacheUrl|archiveDir)=/.test(storeUrl)) {
      await dispose();
      return [{ status: 'skipped', note: 'the tiers pass writes to the engine: see the bare row', cells: {} }];
    }
    // The contender's instance makes the storage and removes it when it closes; the app gets a store of its own.
    const owner = await contender.open(workspace);
    const store = await openStore(storeUrl);
    try {
      const app = createApp(store, { webhooks: { whatsapp: { appSecret: APP_SECRET, verifyToken: 'bench' } } });
      const webhookMs: number[] = [];
      const appendMs: number[] = [];
      for (let r = 0; r < context.sizes.webhookRequests; r++) {
        const body = payload(`1555${String(r).padStart(7, '0')}`, r);
        const signature = `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`;
        // The same messages and conversation attributes the webhook's parse gives, made outside the timing.
        const events = whatsappEvents(JSON.parse(payload(`1666${String(r).padStart(7, '0')}`, r))) as MessageEvent[];
        const plain = events.map((event) => event.message);
        const plainConversation = events[0]?.conversationId as string;
        const attributes = events[0]?.conversation;
        let began = now();
        const response = await app.request(
          '/webhooks/whatsapp',
          {
            method: 'POST',
            body,
            headers: { host: 'localhost', 'content-type': 'application/json', 'x-hub-signature-256': signature },
          },
          { remoteAddress: '127.0.0.1' },
        );
        const answer = (await response.json()) as { stored?: number };
        webhookMs.push(now() - began);
        if (response.status !== 200 || answer.stored !== PER_REQUEST) {
          return [
            { status: 'error', note: `webhook answered ${response.status}: ${JSON.stringify(answer)}`, cells: {} },
          ];
        }
        began = now();
        await store.append(plainConversation, plain, attributes === undefined ? {} : { conversation: attributes });
        appendMs.push(now() - began);
      }
      const rate = (samples: number[]) => (samples.length * 1000) / samples.reduce((sum, ms) => sum + ms, 0);
      const webhookRate = rate(webhookMs);
      const appendRate = rate(appendMs);
      const row = (
        path: string,
        samples: number[],
        perSecond: number,
        ratio: number | null,
      ): Omit<Row, 'contender' | 'durability'> => {
        const summary = summarize(samples);
        return {
          status: 'ok',
          cells: {
            path,
            requestsPerSecond: perSecond,
            msgPerSec: perSecond * PER_REQUEST,
            p50: summary.p50,
            p99: summary.p99,
            ratio,
          },
        };
      };
      return [
        row('POST /webhooks/whatsapp (sign, parse, append)', webhookMs, webhookRate, webhookRate / appendRate),
        row('store.append of the same 100', appendMs, appendRate, null),
      ];
    } finally {
      try {
        await store.close();
        await owner.close();
      } finally {
        await dispose();
      }
    }
  },
};
