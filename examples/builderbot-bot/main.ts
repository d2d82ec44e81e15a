/**
 * A BuilderBot bot with chatstore as its database and its message log, on SQLite. Offline: BuilderBot's
 * test provider stands in for WhatsApp, and the customer's messages come from the command line.
 *
 *   npm run build
 *   npx tsx examples/builderbot-bot/main.ts hola          # the bot greets and asks how many coffees
 *   npx tsx examples/builderbot-bot/main.ts 2 Ana         # a new process: it continues at that question
 */
import { addKeyword, createBot, createFlow, createProvider, TestTool } from '@builderbot/bot';
import { builderbotAdapter } from 'chatstore/builderbot';
import { openStore } from 'chatstore/open';

const customer = process.env.CUSTOMER ?? '34600000000';
const messages = process.argv.slice(2);

interface Methods {
  fallBack(message: string): void;
  flowDynamic(message: string): Promise<void>;
  endFlow(message: string): void;
}

const orderFlow = addKeyword(['hola', 'menu'])
  .addAnswer('¡Hola! Soy el bot de la cafetería ☕')
  .addAnswer(
    '¿Cuántos cafés quieres?',
    { capture: true },
    async (ctx: { body: string }, { fallBack, flowDynamic }: Methods) => {
      if (!/^\d+$/.test(ctx.body.trim())) return fallBack('Escribe un número, por favor');
      await flowDynamic(`Anotado: ${ctx.body.trim()} cafés`);
    },
  )
  .addAnswer('¿A nombre de quién?', { capture: true }, async (ctx: { body: string }, { endFlow }: Methods) => {
    endFlow(`Gracias, ${ctx.body.trim()}. Tu pedido está en camino`);
  });

const store = await openStore(process.env.CHATSTORE_URL ?? 'sqlite://./data/builderbot.db');
const flow = createFlow([orderFlow]);
const provider = createProvider(TestTool.TestProvider);
const chat = builderbotAdapter(store, { flow, bot: '+15550783881', onError: (error) => console.warn(error) });
const bot = await createBot({ flow, provider, database: chat.database });
chat.attach(bot, provider);

const conversationId = `+${customer}`;
for (const body of messages) {
  const before = (await store.recent(conversationId, 1))[0]?.seq ?? 0;
  provider.emit('message', { from: customer, body, name: 'Ana', message_id: `wamid.${Date.now()}.${before}` });
  await answered(before);
}

for (const message of await store.recent(conversationId, 50)) {
  console.log(`${message.role === 'user' ? '👤' : '🤖'} ${message.content}`);
}
await store.close();
// BuilderBot keeps timers of its queue running; the bot has nothing left to do.
process.exit(0);

/**
 * Resolves once the bot has answered the message after `seq` and waits for the customer again: its
 * step (what it saved as the database) is a question (`capture`) or the end of the flow.
 */
async function answered(seq: number): Promise<void> {
  for (let attempt = 0; attempt < 750; attempt++) {
    const [last] = await store.recent(conversationId, 1);
    const step = await chat.database.getPrevByNumber(customer);
    const waiting = step?.options?.capture === true || step?.answer === '__end_flow__';
    if (last !== undefined && last.seq > seq + 1 && last.role === 'assistant' && waiting) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the bot did not answer');
}
