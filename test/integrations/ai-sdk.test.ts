/**
 * `chatstore/ai-sdk`: `UIMessage`s of every part type round-trip through a real SQLite file, saving
 * is idempotent (a changed message is edited), and `persistResponse` stores the answer of a real
 * `streamText` + `toUIMessageStreamResponse` with the SDK's mock model once: complete, truncated and
 * then replaced when the client leaves mid-stream, truncated when the generation is aborted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertToModelMessages, streamText, type UIMessage } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { ChatStoreError } from '../../src/errors.js';
import { isTruncated, loadUIMessages, persistResponse, saveUIMessages } from '../../src/integrations/ai-sdk/index.js';
import { openStore } from '../../src/open.js';
import type { ChatStore } from '../../src/store.js';

/** A chunk of a V3 model stream (`@ai-sdk/provider` is the SDK's own dependency, not imported here). */
type LanguageModelV3StreamPart =
  Awaited<ReturnType<MockLanguageModelV3['doStream']>>['stream'] extends ReadableStream<infer Part> ? Part : never;

const dir = mkdtempSync(join(tmpdir(), 'chatstore-ai-sdk-'));
let files = 0;
const stores: ChatStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sqliteStore(): Promise<ChatStore> {
  const store = await openStore(`sqlite://${join(dir, `${files++}.db`)}`);
  stores.push(store);
  return store;
}

/** A conversation with every kind of part the SDK has, and metadata of every JSON shape. */
const EVERY_PART: UIMessage[] = [
  { id: 'sys-1', role: 'system', parts: [{ type: 'text', text: 'You are a shop assistant.' }] },
  {
    id: 'u-1',
    role: 'user',
    metadata: { createdAt: 1767323045678, channel: 'web', tags: ['es', null], nested: { deep: [1, { x: true }] } },
    parts: [
      { type: 'text', text: '¿Tienen la talla 42? 👟' },
      { type: 'file', mediaType: 'image/png', filename: 'zapato.png', url: 'https://cdn.test/zapato.png' },
      { type: 'file', mediaType: 'text/plain', url: 'data:text/plain;base64,aG9sYQ==' },
    ],
  },
  {
    id: 'a-1',
    role: 'assistant',
    metadata: { model: 'mock', totalTokens: 42 },
    parts: [
      { type: 'step-start' },
      { type: 'reasoning', text: 'Check stock.', state: 'done', providerMetadata: { openai: { itemId: 'rs_1' } } },
      { type: 'tool-stock', toolCallId: 'c-1', state: 'input-streaming', input: { size: 4 }, rawInput: '{"size":4' },
      { type: 'tool-stock', toolCallId: 'c-2', state: 'input-available', input: { size: 42 } },
      {
        type: 'tool-stock',
        toolCallId: 'c-3',
        state: 'output-available',
        input: { size: 42 },
        output: { count: 3, colors: ['rojo', 'azul'] },
        providerExecuted: false,
        callProviderMetadata: { anthropic: { cacheControl: 'ephemeral' } },
      },
      { type: 'tool-stock', toolCallId: 'c-4', state: 'output-error', input: { size: 99 }, errorText: 'no such size' },
      {
        type: 'tool-refund',
        toolCallId: 'c-5',
        state: 'approval-requested',
        input: { order: 7 },
        approval: { id: 'ap-1' },
      },
      {
        type: 'tool-refund',
        toolCallId: 'c-6',
        state: 'approval-responded',
        input: { order: 8 },
        approval: { id: 'ap-2', approved: true, reason: 'ok' },
      },
      {
        type: 'tool-refund',
        toolCallId: 'c-7',
        state: 'output-denied',
        input: { order: 9 },
        approval: { id: 'ap-3', approved: false, reason: 'too late' },
      },
      {
        type: 'dynamic-tool',
        toolName: 'lookup',
        toolCallId: 'c-8',
        state: 'output-available',
        input: { q: 'talla' },
        output: 'found',
      },
      { type: 'source-url', sourceId: 's-1', url: 'https://shop.test/stock', title: 'Stock' },
      { type: 'source-document', sourceId: 's-2', mediaType: 'application/pdf', title: 'Catálogo', filename: 'c.pdf' },
      { type: 'data-weather', id: 'w-1', data: { city: 'Lima', temperature: 21.5, hourly: [20, 21, null] } },
      { type: 'step-start' },
      { type: 'text', text: 'Sí, ', state: 'done' },
      { type: 'text', text: 'quedan 3 🟢', state: 'done', providerMetadata: { openai: { id: 'msg_1' } } },
    ],
  },
];

describe('loadUIMessages and saveUIMessages', () => {
  test('every part type, ids, roles and metadata come back as they went in', async () => {
    const store = await sqliteStore();
    const saved = await saveUIMessages(store, 'chat-1', EVERY_PART);
    expect(saved.map((s) => s.outcome)).toEqual(['appended', 'appended', 'appended']);
    expect(await loadUIMessages(store, 'chat-1')).toStrictEqual(EVERY_PART);
    // In the store: the role, the direction it implies, the id as the external id, the text parts as content.
    const stored = await store.recent('chat-1', 10);
    expect(stored.map((m) => [m.role, m.direction, m.externalId, m.content])).toEqual([
      ['system', 'outgoing', 'sys-1', 'You are a shop assistant.'],
      ['user', 'incoming', 'u-1', '¿Tienen la talla 42? 👟'],
      ['assistant', 'outgoing', 'a-1', 'Sí, quedan 3 🟢'],
    ]);
    expect(stored[2]?.parts).toStrictEqual(EVERY_PART[2]?.parts);
    expect(stored[1]?.metadata).toStrictEqual({ aiSdk: { metadata: EVERY_PART[1]?.metadata } });
    expect((await store.search('quedan')).hits.map((hit) => hit.message.externalId)).toEqual(['a-1']);
    expect((await loadUIMessages(store, 'chat-1', { limit: 2 })).map((m) => m.id)).toEqual(['u-1', 'a-1']);
  });

  test('saving again stores nothing twice; a changed message is edited; new ones are appended', async () => {
    const store = await sqliteStore();
    await saveUIMessages(store, 'chat-2', EVERY_PART);
    const again = await saveUIMessages(store, 'chat-2', EVERY_PART);
    expect(again.map((s) => s.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(await store.getConversation('chat-2')).toMatchObject({ lastSeq: 3, messageCount: 3 });

    const changed: UIMessage = {
      id: 'a-1',
      role: 'assistant',
      metadata: { model: 'mock' },
      parts: [{ type: 'text', text: 'Lo siento, se agotaron.' }],
    };
    const next: UIMessage = { id: 'u-2', role: 'user', parts: [{ type: 'text', text: 'Gracias' }] };
    const saved = await saveUIMessages(store, 'chat-2', [
      EVERY_PART[0] as UIMessage,
      EVERY_PART[1] as UIMessage,
      changed,
      next,
    ]);
    expect(saved.map((s) => s.outcome)).toEqual(['unchanged', 'unchanged', 'edited', 'appended']);
    expect(saved[2]?.message).toMatchObject({
      seq: 3,
      content: 'Lo siento, se agotaron.',
      editedAt: expect.any(String),
    });
    expect(await loadUIMessages(store, 'chat-2')).toStrictEqual([EVERY_PART[0], EVERY_PART[1], changed, next]);
    expect(await store.getConversation('chat-2')).toMatchObject({ lastSeq: 4, messageCount: 4 });
    // Search sees the edit's text, and no longer the old one.
    expect((await store.search('agotaron')).hits.map((hit) => hit.message.externalId)).toEqual(['a-1']);
    expect((await store.search('quedan')).hits).toEqual([]);
    // Metadata removed from a UIMessage is removed from the store.
    const { metadata: _dropped, ...withoutMetadata } = changed;
    expect((await saveUIMessages(store, 'chat-2', [withoutMetadata]))[0]?.outcome).toBe('edited');
    expect((await store.getByExternalId('a-1', 'chat-2'))?.metadata).toBeUndefined();
  });

  test('messages written another way load as text and file parts, keep their ids and are not saved twice', async () => {
    const store = await sqliteStore();
    const [plain, , tool] = await store.append('+15550001', [
      {
        role: 'user',
        content: 'foto del pedido',
        media: [{ url: 'https://cdn.test/p.jpg', type: 'image', mimeType: 'image/jpeg' }],
      },
      { role: 'assistant', content: 'Recibido', externalId: 'wamid.1' },
      { role: 'tool', content: '{"ok":true}' },
    ]);
    const loaded = await loadUIMessages(store, '+15550001');
    expect(loaded).toStrictEqual([
      {
        id: plain?.message.id,
        role: 'user',
        parts: [
          { type: 'text', text: 'foto del pedido' },
          { type: 'file', mediaType: 'image/jpeg', url: 'https://cdn.test/p.jpg' },
        ],
      },
      { id: 'wamid.1', role: 'assistant', parts: [{ type: 'text', text: 'Recibido' }] },
    ]);
    expect(tool?.message.role).toBe('tool');
    const saved = await saveUIMessages(store, '+15550001', loaded);
    expect(saved.map((s) => [s.outcome, s.message.seq])).toEqual([
      ['edited', 1],
      ['edited', 2],
    ]);
    // Edited, not duplicated: the parts are now stored as parts, the content as it was.
    expect(await store.getConversation('+15550001')).toMatchObject({ lastSeq: 3, messageCount: 3 });
    expect(await loadUIMessages(store, '+15550001')).toStrictEqual(loaded);
  });

  test('bad input is a ChatStoreError and stores nothing of the batch', async () => {
    const store = await sqliteStore();
    const ok: UIMessage = { id: 'u-1', role: 'user', parts: [{ type: 'text', text: 'hola' }] };
    const cases: [unknown, string][] = [
      [[ok, { id: 'x', role: 'tool', parts: [] }], 'messages[1].role'],
      [[ok, { role: 'user', parts: [] }], 'messages[1].id'],
      [[ok, { id: 'x', role: 'user', parts: 'hola' }], 'messages[1].parts'],
      [[ok, null], 'messages[1]'],
      [
        [ok, { id: 'x', role: 'user', parts: [], metadata: { at: new Date(0) } }],
        'messages[1].metadata.aiSdk.metadata.at',
      ],
      [[ok, { id: 'x', role: 'user', parts: [{ type: 'data-n', data: Number.NaN }] }], 'messages[1].parts[0].data'],
      [[ok, { id: 'x'.repeat(256), role: 'user', parts: [] }], 'messages[1].externalId'],
      ['not an array', 'messages'],
    ];
    for (const [messages, path] of cases) {
      const error = await saveUIMessages(store, 'chat-bad', messages as UIMessage[]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, path).toBeInstanceOf(ChatStoreError);
      expect(error, path).toMatchObject({ code: 'INVALID_ARGUMENT', path });
    }
    expect(await store.getConversation('chat-bad')).toBeUndefined();
    await expect(saveUIMessages(store, 'chat-bad', [ok])).resolves.toHaveLength(1);
  });
});

/**
 * A model stream the test feeds chunk by chunk, so nothing depends on timing. Like a real
 * provider's fetch, it fails with the abort signal's reason when the call is aborted.
 */
function controlledModel(): {
  model: MockLanguageModelV3;
  push(...parts: LanguageModelV3StreamPart[]): void;
  end(): void;
} {
  let controller!: ReadableStreamDefaultController<LanguageModelV3StreamPart>;
  const stream = new ReadableStream<LanguageModelV3StreamPart>({
    start(c) {
      controller = c;
    },
  });
  return {
    model: new MockLanguageModelV3({
      doStream: async ({ abortSignal }) => {
        abortSignal?.addEventListener('abort', () => controller.error(abortSignal.reason));
        return { stream };
      },
    }),
    push: (...parts) => {
      for (const part of parts) controller.enqueue(part);
    },
    end: () => controller.close(),
  };
}

const FINISH: LanguageModelV3StreamPart = {
  type: 'finish',
  finishReason: { unified: 'stop', raw: 'stop' },
  usage: {
    inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 5, text: 5, reasoning: undefined },
  },
};

const text = (id: string, ...deltas: string[]): LanguageModelV3StreamPart[] => [
  { type: 'text-start', id },
  ...deltas.map((delta) => ({ type: 'text-delta' as const, id, delta })),
  { type: 'text-end', id },
];

/** Reads the SSE body until `marker` has arrived; returns the reader, still open. */
async function readUntil(response: Response, marker: string): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let seen = '';
  while (!seen.includes(marker)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before ${marker}`);
    seen += decoder.decode(value, { stream: true });
  }
  return reader;
}

describe('persistResponse with streamText and toUIMessageStreamResponse', () => {
  const question: UIMessage = { id: 'q-1', role: 'user', parts: [{ type: 'text', text: '¿Hay envío a Lima?' }] };

  async function chatTurn(store: ChatStore, conversationId: string, abortSignal?: AbortSignal) {
    const { model, push, end } = controlledModel();
    await saveUIMessages(store, conversationId, [question]);
    const messages = await loadUIMessages(store, conversationId);
    const result = streamText({ model, messages: await convertToModelMessages(messages), abortSignal });
    const finishes: { isAborted: boolean; responseMessage: UIMessage }[] = [];
    let clientFinished!: () => void;
    const clientDone = new Promise<void>((resolve) => {
      clientFinished = resolve;
    });
    const persisted = persistResponse(store, conversationId, {
      originalMessages: messages,
      result,
      generateMessageId: () => 'answer-1',
      messageMetadata: ({ part }) => (part.type === 'finish' ? { finishReason: part.finishReason } : undefined),
      onFinish: (event) => {
        finishes.push({ isAborted: event.isAborted, responseMessage: event.responseMessage });
        clientFinished();
      },
    });
    const response = result.toUIMessageStreamResponse(persisted.streamOptions);
    return { response, push, end, persisted, finishes, clientDone, model };
  }

  test('a complete answer is stored once, as the client received it', async () => {
    const store = await sqliteStore();
    const turn = await chatTurn(store, 'chat-ok');
    turn.push(
      { type: 'stream-start', warnings: [] },
      { type: 'reasoning-start', id: 'r' },
      { type: 'reasoning-delta', id: 'r', delta: 'Lima is served.' },
      { type: 'reasoning-end', id: 'r' },
      ...text('t', 'Sí, ', 'enviamos ', 'a Lima.'),
      FINISH,
    );
    turn.end();
    expect(await turn.response.text()).toContain('enviamos');
    const stored = await turn.persisted.stored;
    await turn.clientDone;
    expect(turn.finishes).toHaveLength(1);
    const answer = turn.finishes[0]?.responseMessage as UIMessage;
    expect(answer).toMatchObject({ id: 'answer-1', role: 'assistant', metadata: { finishReason: 'stop' } });
    expect(stored).toMatchObject({ externalId: 'answer-1', role: 'assistant', content: 'Sí, enviamos a Lima.' });
    expect(stored.editedAt).toBeUndefined();
    expect(isTruncated(stored)).toBe(false);
    const history = await loadUIMessages(store, 'chat-ok');
    expect(history).toStrictEqual([question, JSON.parse(JSON.stringify(answer))]);
    expect(history[1]?.parts.map((p) => p.type)).toEqual(['step-start', 'reasoning', 'text']);
    // The model was given the stored history.
    expect(JSON.stringify(turn.model.doStreamCalls[0]?.prompt)).toContain('¿Hay envío a Lima?');
    expect(await store.getConversation('chat-ok')).toMatchObject({ messageCount: 2 });
  });

  test('the client leaves mid-stream: what arrived is stored, marked, then replaced by the full answer', async () => {
    const store = await sqliteStore();
    const turn = await chatTurn(store, 'chat-gone');
    turn.push(
      { type: 'stream-start', warnings: [] },
      { type: 'text-start', id: 't' },
      {
        type: 'text-delta',
        id: 't',
        delta: 'Enviamos a Lima ',
      },
    );
    const reader = await readUntil(turn.response, 'Enviamos a Lima');
    await reader.cancel();
    await turn.clientDone;
    expect(turn.finishes.map((f) => f.isAborted)).toEqual([false]);
    const truncated = await store.getByExternalId('answer-1', 'chat-gone');
    expect(truncated).toMatchObject({ content: 'Enviamos a Lima ', metadata: { aiSdk: { truncated: true } } });
    expect(isTruncated(truncated as never)).toBe(true);
    expect(truncated?.parts).toEqual([
      { type: 'step-start' },
      { type: 'text', text: 'Enviamos a Lima ', state: 'streaming' },
    ]);

    // The generation goes on without the client; its end replaces the truncated answer.
    turn.push({ type: 'text-delta', id: 't', delta: 'en 48 horas.' }, { type: 'text-end', id: 't' }, FINISH);
    turn.end();
    const stored = await turn.persisted.stored;
    expect(stored).toMatchObject({
      id: truncated?.id,
      seq: truncated?.seq,
      content: 'Enviamos a Lima en 48 horas.',
      metadata: { aiSdk: { metadata: { finishReason: 'stop' } } },
      editedAt: expect.any(String),
    });
    expect(isTruncated(stored)).toBe(false);
    expect(await loadUIMessages(store, 'chat-gone')).toStrictEqual([
      question,
      {
        id: 'answer-1',
        role: 'assistant',
        metadata: { finishReason: 'stop' },
        parts: [{ type: 'step-start' }, { type: 'text', text: 'Enviamos a Lima en 48 horas.', state: 'done' }],
      },
    ]);
    expect(await store.getConversation('chat-gone')).toMatchObject({ lastSeq: 2, messageCount: 2 });
    expect((await store.search('horas')).hits.map((hit) => hit.message.externalId)).toEqual(['answer-1']);
  });

  test('without the result, the question is stored with the answer and an answer the client left stays truncated', async () => {
    const store = await sqliteStore();
    const { model, push } = controlledModel();
    const messages = [question];
    const result = streamText({ model, messages: await convertToModelMessages(messages) });
    const persisted = persistResponse(store, 'chat-plain', {
      originalMessages: messages,
      conversation: { title: 'Envíos' },
    });
    const response = result.toUIMessageStreamResponse(persisted.streamOptions);
    push(
      { type: 'stream-start', warnings: [] },
      { type: 'text-start', id: 't' },
      {
        type: 'text-delta',
        id: 't',
        delta: 'Depende del ',
      },
    );
    await (await readUntil(response, 'Depende del')).cancel();
    const stored = await persisted.stored;
    expect(isTruncated(stored)).toBe(true);
    expect((await store.recent('chat-plain', 10)).map((m) => [m.externalId, m.content])).toEqual([
      ['q-1', '¿Hay envío a Lima?'],
      [stored.externalId, 'Depende del '],
    ]);
    expect(await store.getConversation('chat-plain')).toMatchObject({ title: 'Envíos', messageCount: 2 });
  });

  test('a stream that ends before any of the answer stores the question only, and says so', async () => {
    const store = await sqliteStore();
    const { model, push } = controlledModel();
    const result = streamText({ model, messages: await convertToModelMessages([question]) });
    const persisted = persistResponse(store, 'chat-empty', { originalMessages: [question] });
    const response = result.toUIMessageStreamResponse(persisted.streamOptions);
    push({ type: 'stream-start', warnings: [] });
    await (await readUntil(response, '"type":"start"')).cancel();
    await expect(persisted.stored).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await store.recent('chat-empty', 10)).map((m) => m.externalId)).toEqual(['q-1']);
  });

  test('an aborted generation is stored once as far as it got, marked truncated', async () => {
    const store = await sqliteStore();
    const abort = new AbortController();
    const turn = await chatTurn(store, 'chat-stop', abort.signal);
    turn.push({ type: 'stream-start', warnings: [] }, ...text('t', 'Un momento, '));
    const reader = await readUntil(turn.response, 'Un momento');
    abort.abort();
    while (!(await reader.read()).done) {
      // the client reads the rest: the abort chunk and the end
    }
    const stored = await turn.persisted.stored;
    await turn.clientDone;
    expect(turn.finishes.map((f) => f.isAborted)).toEqual([true]);
    expect(stored).toMatchObject({ externalId: 'answer-1', content: 'Un momento, ' });
    expect(isTruncated(stored)).toBe(true);
    expect(await store.getConversation('chat-stop')).toMatchObject({ lastSeq: 2, messageCount: 2 });
    // A later complete save of the same message lifts the mark.
    const [saved] = await saveUIMessages(store, 'chat-stop', [
      { id: 'answer-1', role: 'assistant', parts: [{ type: 'text', text: 'Un momento, ya está.' }] },
    ]);
    expect(saved?.outcome).toBe('edited');
    expect(isTruncated(saved?.message as never)).toBe(false);
  });
});
