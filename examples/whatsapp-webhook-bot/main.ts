/**
 * A WhatsApp Cloud API bot on one SQLite file. Meta's webhooks come in signed; every message is
 * stored once, however often Meta retries; each new text gets an answer through the Graph API, and
 * that answer is stored too, so the delivery statuses Meta reports later land on it.
 */
import { isChatStoreError, type Message } from 'chatstore';
import { applyEvents, verifySecretToken, verifyWhatsAppSignature, whatsappEvents } from 'chatstore/ingest';
import { openStore } from 'chatstore/open';
import { startNodeServer } from 'chatstore/server/node';

const APP_SECRET = required('WHATSAPP_APP_SECRET');
const VERIFY_TOKEN = required('WHATSAPP_VERIFY_TOKEN');
const ACCESS_TOKEN = required('WHATSAPP_ACCESS_TOKEN');
const GRAPH_API_URL = process.env.GRAPH_API_URL ?? 'https://graph.facebook.com/v21.0';

// CHATSTORE_URL, else the SQLite file ./data/chatstore.db.
const store = await openStore();

const FAQ: readonly [RegExp, string][] = [
  [/\b(hours?|open)\b/i, 'We are open Monday to Saturday, 9:00 to 19:00.'],
  [/\b(deliver|delivery|shipping)\b/i, 'We deliver anywhere in Spain in 2 working days, free over 50 €.'],
];

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname !== '/webhooks/whatsapp') return new Response('not found', { status: 404 });
  if (request.method === 'GET') return verifySubscription(url.searchParams);
  if (request.method !== 'POST') return new Response('method not allowed', { status: 405 });

  // The signature covers the exact bytes Meta sent, so it is checked before anything is parsed.
  const raw = new Uint8Array(await request.arrayBuffer());
  const signature = request.headers.get('x-hub-signature-256') ?? undefined;
  if (!(await verifyWhatsAppSignature(raw, signature, APP_SECRET))) {
    return new Response('bad signature', { status: 401 });
  }

  let events: ReturnType<typeof whatsappEvents>;
  try {
    events = whatsappEvents(JSON.parse(new TextDecoder().decode(raw)));
  } catch (error) {
    if (error instanceof SyntaxError || isChatStoreError(error)) return new Response(String(error), { status: 400 });
    throw error;
  }
  for (const event of events) {
    if (event.kind !== 'message') {
      // Statuses of what the bot sent: the store moves each one forward only, whatever the order.
      await applyEvents(store, [event]);
      continue;
    }
    // The wamid is the external id: Meta's retry of this delivery comes back as a duplicate, which
    // is how the bot knows it has answered already.
    const [stored] = await store.append(event.conversationId, event.message, { conversation: event.conversation });
    if (stored !== undefined && !stored.duplicate && whatsappOf(stored.message).type === 'text') {
      await answer(stored.message);
    }
  }
  // Only now, with everything stored: a failure above is a 500, and Meta delivers the webhook again.
  return new Response('ok');
}

function verifySubscription(params: URLSearchParams): Response {
  const token = params.get('hub.verify_token') ?? undefined;
  if (params.get('hub.mode') !== 'subscribe' || !verifySecretToken(token, VERIFY_TOKEN)) {
    return new Response('wrong verify token', { status: 403 });
  }
  return new Response(params.get('hub.challenge') ?? '');
}

async function answer(incoming: Message): Promise<void> {
  const customer = incoming.conversationId;
  const known = FAQ.find(([question]) => question.test(incoming.content))?.[1];
  const text = known ?? 'I can tell you our opening hours and how we deliver; a person will read this too.';
  // The conversation as the store has it: a customer the bot has not spoken to lately is greeted first.
  const spoken = (await store.recent(customer, 20)).some((message) => message.direction === 'outgoing');
  const content = spoken ? text : `Hi, this is the shop’s assistant! ${text}`;
  const reply = {
    role: 'assistant',
    content,
    senderId: incoming.recipientId,
    recipientId: customer,
    replyTo: incoming.externalId,
  } as const;
  let wamid: string;
  try {
    // From the business number the customer wrote to (a bot may serve several).
    wamid = await sendText(whatsappOf(incoming).phoneNumberId, customer, content);
  } catch (error) {
    // Kept as failed rather than retried: Meta's retry of the webhook would not answer again.
    console.error(`could not answer ${incoming.externalId}:`, error);
    await store.append(customer, { ...reply, status: 'failed', error: { message: String(error) } });
    return;
  }
  // Stored under Meta's id for it, so the statuses webhook finds it; `queued` until Meta says `sent`.
  await store.append(customer, { ...reply, externalId: wamid, status: 'queued' });
}

/** Sends a text with the Cloud API and resolves to its wamid. */
async function sendText(phoneNumberId: string, to: string, body: string): Promise<string> {
  const response = await fetch(`${GRAPH_API_URL}/${phoneNumberId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ACCESS_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'text',
      text: { body },
    }),
  });
  const result = (await response.json()) as { messages?: { id: string }[]; error?: { message: string } };
  const wamid = result.messages?.[0]?.id;
  if (!response.ok || wamid === undefined) {
    throw new Error(`Graph API ${response.status}: ${result.error?.message ?? 'no message id'}`);
  }
  return wamid;
}

/** What `chatstore/ingest` keeps of Meta's message: which business number it came to, and its type. */
function whatsappOf(message: Message): { phoneNumberId: string; type: string } {
  return message.metadata?.whatsapp as { phoneNumberId: string; type: string };
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`set ${name}`);
  return value;
}

const server = await startNodeServer(
  { fetch: handle },
  { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' },
);
console.log(`WhatsApp webhook on ${server.url}/webhooks/whatsapp`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    // Answers what already arrived, then closes the SQLite file cleanly.
    await server.shutdown();
    await store.close();
  });
}
