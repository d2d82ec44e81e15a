/**
 * An AI SDK chat route over chatstore: `POST /api/chat` takes `{ id, message }` (the shape `useChat`
 * sends with `prepareSendMessagesRequest`), stores the message, loads the conversation, streams the
 * model's answer and stores it once with `persistResponse`; `GET /api/chat?id=…` gives the stored
 * conversation as `UIMessage[]` for the client to start from.
 *
 * Runs offline: the model is the AI SDK's mock, which answers with what it was given. `npm run
 * build`, then `CHATSTORE_URL=sqlite://./data/chat.db PORT=3000 npx tsx examples/ai-sdk-chat-route/main.ts`.
 */
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { convertToModelMessages, type LanguageModel, simulateReadableStream, streamText, type UIMessage } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { type ChatStore, ChatStoreError } from 'chatstore';
import { loadUIMessages, persistResponse, saveUIMessages } from 'chatstore/ai-sdk';
import { openStore } from 'chatstore/open';

/** The route: a Web-standard handler, so it fits Next.js, Hono, Workers or `node:http` as is. */
export function chatRoute(store: ChatStore, model: LanguageModel): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== '/api/chat') return new Response('not found', { status: 404 });
    try {
      if (request.method === 'GET') {
        const id = url.searchParams.get('id') ?? '';
        return Response.json(await loadUIMessages(store, id));
      }
      if (request.method !== 'POST') return new Response('method not allowed', { status: 405 });
      const { id, message } = (await request.json()) as { id: string; message: UIMessage };
      await saveUIMessages(store, id, [message]);
      const messages = await loadUIMessages(store, id, { limit: 50 });
      const result = streamText({
        model,
        system: 'You are a helpful shop assistant.',
        messages: await convertToModelMessages(messages),
        // No abortSignal: when the client leaves, the generation runs on and its complete answer
        // replaces the truncated one. (`abortSignal: request.signal` would stop it and keep what it said.)
      });
      const { streamOptions } = persistResponse(store, id, { originalMessages: messages, result });
      return result.toUIMessageStreamResponse(streamOptions);
    } catch (error) {
      if (error instanceof ChatStoreError && error.code === 'INVALID_ARGUMENT') {
        return Response.json({ error: error.message, path: error.path }, { status: 400 });
      }
      throw error;
    }
  };
}

/**
 * The AI SDK's mock model, streaming word by word an answer that repeats the last user message and
 * says how many messages it was given. Replace it with a provider's model to talk to a real one.
 */
export function echoModel(): LanguageModel {
  return new MockLanguageModelV3({
    doStream: async ({ prompt }) => {
      const last = prompt.findLast((message) => message.role === 'user');
      const said = (last?.content ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');
      const words = `You said: "${said}". I was given ${prompt.length} messages.`.split(/(?<= )/);
      return {
        stream: simulateReadableStream({
          chunks: [
            { type: 'stream-start', warnings: [] },
            { type: 'text-start', id: 'text-1' },
            ...words.map((delta) => ({ type: 'text-delta' as const, id: 'text-1', delta })),
            { type: 'text-end', id: 'text-1' },
            {
              type: 'finish',
              finishReason: { unified: 'stop', raw: 'stop' },
              usage: {
                inputTokens: {
                  total: prompt.length,
                  noCache: prompt.length,
                  cacheRead: undefined,
                  cacheWrite: undefined,
                },
                outputTokens: { total: words.length, text: words.length, reasoning: undefined },
              },
            },
          ],
        }),
      };
    },
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const store = await openStore(); // CHATSTORE_URL, else sqlite://./data/chat.db
  const route = chatRoute(store, echoModel());
  const server = serve({ fetch: route, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' }, (info) => {
    console.log(`listening on http://127.0.0.1:${info.port}/api/chat`);
  });
  const stop = (): void => {
    server.close(() => {
      void store.close().then(() => process.exit(0));
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
