/**
 * Property: random sequences of operations give the same results on the backend as on a small
 * reference model of the semantics written here (docs/api.md and the invariants in docs/ARCHITECTURE.md). The model is deliberately naive
 * (arrays and linear scans) and shares no code with the store or any backend. Then a scripted
 * workload over most of the API must give every other backend the memory backend's answers (§4.6).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import { ChatStoreError } from '../../src/errors.js';
import type { AppendResult, Message, MessageError, MessageStatus, NewMessage, Role } from '../../src/model.js';
import { ALL_BACKENDS, type BackendEntry, backends } from './backends.js';
import { atT0, hasSearch, T0, tickingClock } from './harness.js';

const CONVERSATIONS = ['a', 'b'] as const;
const IDS = ['m1', 'm2', 'm3', 'm4', 'm5'] as const;
const EXTERNAL_IDS = ['x1', 'x2', 'x3', 'x4'] as const;
const WORDS = ['hello', 'order', 'refund', 'ok', ''] as const;
const STATUSES: readonly MessageStatus[] = ['queued', 'sent', 'delivered', 'read', 'failed'];

type ConversationId = (typeof CONVERSATIONS)[number];

/** A message target: a pool id or external id (resolved as the store resolves it), or the n-th message ever stored. */
type Target = { key: string } | { nth: number };

type Op =
  | {
      kind: 'append';
      conversationId: ConversationId;
      messages: NewMessage[];
      single: boolean;
      expectedLastSeq?: number;
    }
  | {
      kind: 'status';
      target: Target;
      status: MessageStatus;
      second: number;
      error?: MessageError;
      conversationId?: ConversationId;
    }
  | { kind: 'restore'; conversationId: ConversationId; messages: RestoredDraft[] }
  | { kind: 'delete'; target: Target; hard: boolean }
  | { kind: 'edit'; target: Target; content: string }
  | { kind: 'get'; target: Target }
  | { kind: 'recent'; conversationId: ConversationId; n: number }
  | {
      kind: 'list';
      conversationId: ConversationId;
      order: 'asc' | 'desc';
      limit: number;
      includeDeleted: boolean;
    }
  | { kind: 'around'; conversationId: ConversationId; seq: number; before: number; after: number };

/** A message as an export gives it, for `restore`: its seq kept (seqs increase within a call). */
interface RestoredDraft {
  id: string;
  externalId?: string;
  role: Role;
  content: string;
  seq: number;
}

const conversationArb = fc.constantFrom(...CONVERSATIONS);
const targetArb: fc.Arbitrary<Target> = fc.oneof(
  fc.constantFrom(...IDS, ...EXTERNAL_IDS, 'missing').map((key) => ({ key })),
  fc.nat(40).map((nth) => ({ nth })),
);
const newMessageArb: fc.Arbitrary<NewMessage> = fc
  .record(
    {
      id: fc.constantFrom(...IDS),
      externalId: fc.constantFrom(...EXTERNAL_IDS),
      role: fc.constantFrom<Role>('user', 'assistant'),
      content: fc.constantFrom(...WORDS),
      status: fc.constantFrom(...STATUSES),
    },
    { requiredKeys: ['role', 'content'] },
  )
  .map((message) => message as NewMessage);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        conversationId: conversationArb,
        messages: fc.array(newMessageArb, { minLength: 1, maxLength: 4 }),
        single: fc.boolean(),
        // Mostly absent: a wrong expectation makes the append a no-op.
        expectedLastSeq: fc.oneof(
          { weight: 3, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.nat(8) },
        ),
      })
      .map(({ expectedLastSeq, ...rest }) => ({
        kind: 'append' as const,
        ...rest,
        ...(expectedLastSeq === undefined ? {} : { expectedLastSeq }),
      })),
  },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        kind: fc.constant('status' as const),
        target: targetArb,
        status: fc.constantFrom(...STATUSES),
        second: fc.nat(100),
        error: fc.constant({ code: 'E1', message: 'failed to deliver' }),
        conversationId: conversationArb,
      },
      { requiredKeys: ['kind', 'target', 'status', 'second'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        conversationId: conversationArb,
        messages: fc.array(
          fc.record(
            {
              id: fc.constantFrom(...IDS, 'r1', 'r2', 'r3'),
              externalId: fc.constantFrom(...EXTERNAL_IDS),
              role: fc.constantFrom<Role>('user', 'assistant'),
              content: fc.constantFrom(...WORDS),
              gap: fc.integer({ min: 1, max: 3 }),
            },
            { requiredKeys: ['id', 'role', 'content', 'gap'] },
          ),
          { minLength: 1, maxLength: 3 },
        ),
        start: fc.nat(8),
      })
      .map(({ conversationId, messages, start }) => {
        // Seqs from `start` up, in gaps of 1–3: below, at or above the conversation's lastSeq.
        let seq = start;
        const restored = messages.map(({ gap, ...draft }) => {
          seq += gap;
          return { ...draft, seq };
        });
        return { kind: 'restore' as const, conversationId, messages: restored };
      }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), target: targetArb, hard: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      target: targetArb,
      content: fc.constantFrom(...WORDS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), target: targetArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('recent' as const),
      conversationId: conversationArb,
      n: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('list' as const),
      conversationId: conversationArb,
      order: fc.constantFrom('asc' as const, 'desc' as const),
      limit: fc.integer({ min: 1, max: 4 }),
      includeDeleted: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('around' as const),
      conversationId: conversationArb,
      // seq 0 is covered by its own test in reads.test.ts.
      seq: fc.integer({ min: 1, max: 12 }),
      before: fc.nat(3),
      after: fc.nat(3),
    }),
  },
);

/** An operation's outcome, comparable across model and store. */
type Outcome = { value: unknown } | { error: string };

class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const RANK: Record<Exclude<MessageStatus, 'failed'>, number> = { queued: 0, sent: 1, delivered: 2, read: 3 };

/** The status after `reported` arrives on a message in `current` (invariant 4 in docs/ARCHITECTURE.md, written from the prose). */
function forward(current: MessageStatus | undefined, reported: MessageStatus): MessageStatus {
  if (current === undefined || current === reported) return reported;
  if (current === 'failed') return reported === 'delivered' || reported === 'read' ? reported : 'failed';
  if (reported === 'failed') return RANK[current] <= RANK.sent ? 'failed' : current;
  return RANK[reported] > RANK[current] ? reported : current;
}

/** The reference: every message ever stored, in insertion order, and each conversation's counter. */
class Model {
  messages: Message[] = [];
  lastSeq = new Map<string, number>();
  /** Ids of every message ever inserted, in order (for `{ nth }` targets; may point to deleted ones). */
  history: string[] = [];

  byId(id: string): Message | undefined {
    return this.messages.find((m) => m.id === id);
  }

  byExternalId(externalId: string, conversationId?: string): Message | undefined {
    return this.messages
      .filter(
        (m) => m.externalId === externalId && (conversationId === undefined || m.conversationId === conversationId),
      )
      .sort((x, y) =>
        x.conversationId < y.conversationId ? -1 : x.conversationId > y.conversationId ? 1 : x.seq - y.seq,
      )[0];
  }

  resolve(target: Target): string {
    if ('key' in target) return target.key;
    return this.history.length === 0 ? 'missing' : (this.history[target.nth % this.history.length] as string);
  }

  conversation(conversationId: string): { lastSeq: number; messageCount: number } | undefined {
    const lastSeq = this.lastSeq.get(conversationId);
    if (lastSeq === undefined) return undefined;
    return { lastSeq, messageCount: this.messages.filter((m) => m.conversationId === conversationId).length };
  }

  visible(conversationId: string, includeDeleted = false): Message[] {
    return this.messages
      .filter((m) => m.conversationId === conversationId && (includeDeleted || m.deletedAt === undefined))
      .sort((x, y) => x.seq - y.seq);
  }

  /** Returns the results with `id: undefined` for ids the store generates; the caller fills them in. */
  append(conversationId: string, input: NewMessage[], expectedLastSeq: number | undefined): AppendResult[] {
    const lastSeq = this.lastSeq.get(conversationId) ?? 0;
    let seq = lastSeq;
    const results: AppendResult[] = [];
    const inserted: Message[] = [];
    for (const draft of input) {
      const all = [...this.messages, ...inserted];
      const sameId = draft.id === undefined ? undefined : all.find((m) => m.id === draft.id);
      if (sameId !== undefined && sameId.conversationId !== conversationId) throw new ModelError('CONFLICT');
      const duplicateOf =
        sameId ??
        (draft.externalId === undefined
          ? undefined
          : all.find((m) => m.conversationId === conversationId && m.externalId === draft.externalId));
      if (duplicateOf !== undefined) {
        results.push({ message: duplicateOf, duplicate: true });
        continue;
      }
      seq += 1;
      const role = draft.role ?? 'user';
      const message: Message = {
        id: draft.id ?? '',
        conversationId,
        seq,
        ...(draft.externalId === undefined ? {} : { externalId: draft.externalId }),
        role,
        direction: role === 'user' ? 'incoming' : 'outgoing',
        content: draft.content ?? '',
        ...(draft.status === undefined ? {} : { status: draft.status, statusAt: { [draft.status]: T0 } }),
        createdAt: T0,
      };
      inserted.push(message);
      results.push({ message, duplicate: false });
    }
    if (inserted.length > 0 && expectedLastSeq !== undefined && expectedLastSeq !== lastSeq) {
      throw new ModelError('CONFLICT');
    }
    if (inserted.length > 0) {
      this.messages.push(...inserted);
      this.lastSeq.set(conversationId, seq);
    }
    return results;
  }

  /** `restore` (written from the docs): append's duplicates, given seqs that must pass lastSeq. */
  restore(conversationId: string, input: RestoredDraft[]): AppendResult[] {
    const lastSeq = this.lastSeq.get(conversationId) ?? 0;
    let seq = lastSeq;
    const results: AppendResult[] = [];
    const inserted: Message[] = [];
    for (const draft of input) {
      const all = [...this.messages, ...inserted];
      const sameId = all.find((m) => m.id === draft.id);
      if (sameId !== undefined && sameId.conversationId !== conversationId) throw new ModelError('CONFLICT');
      const duplicateOf =
        sameId ??
        (draft.externalId === undefined
          ? undefined
          : all.find((m) => m.conversationId === conversationId && m.externalId === draft.externalId));
      if (duplicateOf !== undefined) {
        results.push({ message: duplicateOf, duplicate: true });
        continue;
      }
      if (draft.seq <= seq) throw new ModelError('CONFLICT');
      seq = draft.seq;
      const message: Message = {
        id: draft.id,
        conversationId,
        seq,
        ...(draft.externalId === undefined ? {} : { externalId: draft.externalId }),
        role: draft.role,
        direction: draft.role === 'user' ? 'incoming' : 'outgoing',
        content: draft.content,
        createdAt: T0,
      };
      inserted.push(message);
      results.push({ message, duplicate: false });
    }
    if (inserted.length > 0) {
      this.messages.push(...inserted);
      this.lastSeq.set(conversationId, seq);
      for (const message of inserted) this.history.push(message.id);
    }
    return results;
  }

  /** After the store answered: adopt the ids it generated, which must be new and distinct. */
  adoptIds(expected: AppendResult[], actual: AppendResult[]): void {
    const taken = new Set(this.messages.filter((m) => m.id !== '').map((m) => m.id));
    for (const [i, result] of expected.entries()) {
      if (result.message.id !== '') continue;
      const id = actual[i]?.message.id;
      if (id === undefined || id === '' || taken.has(id)) throw new Error(`store generated a bad or reused id: ${id}`);
      result.message.id = id;
      taken.add(id);
    }
    for (const result of expected) if (!result.duplicate) this.history.push(result.message.id);
  }

  updateStatus(key: string, status: MessageStatus, at: string, error?: MessageError, conversationId?: string): Message {
    const byId = this.byId(key);
    const target =
      byId !== undefined && (conversationId === undefined || byId.conversationId === conversationId)
        ? byId
        : this.byExternalId(key, conversationId);
    if (target === undefined) throw new ModelError('NOT_FOUND');
    const next = forward(target.status, status);
    if (target.statusAt?.[status] === undefined) target.statusAt = { ...target.statusAt, [status]: at };
    if (next === 'failed' && target.status !== 'failed' && error !== undefined) target.error = error;
    target.status = next;
    return target;
  }

  delete(id: string, hard: boolean): boolean {
    const message = this.byId(id);
    if (message === undefined) return false;
    if (hard) this.messages = this.messages.filter((m) => m !== message);
    else message.deletedAt ??= T0;
    return true;
  }

  edit(id: string, content: string): Message {
    const message = this.byId(id);
    if (message === undefined || message.deletedAt !== undefined) throw new ModelError('NOT_FOUND');
    message.content = content;
    message.editedAt = T0;
    return message;
  }

  pages(conversationId: string, order: 'asc' | 'desc', limit: number, includeDeleted: boolean) {
    const all = this.visible(conversationId, includeDeleted);
    if (order === 'desc') all.reverse();
    const pages: { messages: Message[]; more: boolean }[] = [];
    for (let start = 0; start === 0 || start < all.length; start += limit) {
      pages.push({ messages: all.slice(start, start + limit), more: start + limit < all.length });
    }
    return pages;
  }

  around(conversationId: string, seq: number, before: number, after: number): Message[] {
    const all = this.visible(conversationId);
    const older = all.filter((m) => m.seq < seq);
    return [
      ...older.slice(older.length - Math.min(before, older.length)),
      ...all.filter((m) => m.seq >= seq).slice(0, after + 1),
    ];
  }
}

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    return { value: structuredClone(await run()) };
  } catch (error) {
    if (error instanceof ChatStoreError || error instanceof ModelError) return { error: error.code };
    throw error;
  }
}

async function step(store: ChatStoreApi, model: Model, op: Op): Promise<void> {
  const label = JSON.stringify(op);
  switch (op.kind) {
    case 'append': {
      const input = op.single ? (op.messages[0] as NewMessage) : op.messages;
      const options = op.expectedLastSeq === undefined ? {} : { expectedLastSeq: op.expectedLastSeq };
      const actual = await outcome(() => store.append(op.conversationId, input, options));
      let expectedResults: AppendResult[] | undefined;
      const expected = await outcome(() => {
        expectedResults = model.append(
          op.conversationId,
          op.single ? op.messages.slice(0, 1) : op.messages,
          op.expectedLastSeq,
        );
        return expectedResults;
      });
      if ('value' in actual && expectedResults !== undefined) {
        model.adoptIds(expectedResults, actual.value as AppendResult[]);
        expect(actual, label).toStrictEqual({ value: structuredClone(expectedResults) });
      } else {
        expect(actual, label).toStrictEqual(expected);
      }
      break;
    }
    case 'restore': {
      const messages = op.messages.map(
        (draft): Message => ({
          ...draft,
          conversationId: op.conversationId,
          direction: draft.role === 'user' ? 'incoming' : 'outgoing',
          createdAt: T0,
        }),
      );
      const actual = await outcome(() => store.restore(op.conversationId, messages));
      const expected = await outcome(() => model.restore(op.conversationId, op.messages));
      expect(actual, label).toStrictEqual(expected);
      break;
    }
    case 'status': {
      const key = model.resolve(op.target);
      const at = new Date(Date.parse(T0) + op.second * 1000).toISOString();
      const options = {
        at,
        ...(op.error === undefined ? {} : { error: op.error }),
        ...(op.conversationId === undefined ? {} : { conversationId: op.conversationId }),
      };
      const actual = await outcome(() => store.updateStatus(key, op.status, options));
      const expected = await outcome(() => model.updateStatus(key, op.status, at, op.error, op.conversationId));
      expect(actual, label).toStrictEqual(expected);
      break;
    }
    case 'delete': {
      const id = model.resolve(op.target);
      const actual = await outcome(() => store.delete(id, { hard: op.hard }));
      expect(actual, label).toStrictEqual(await outcome(() => model.delete(id, op.hard)));
      break;
    }
    case 'edit': {
      const id = model.resolve(op.target);
      const actual = await outcome(() => store.edit(id, { content: op.content }));
      expect(actual, label).toStrictEqual(await outcome(() => model.edit(id, op.content)));
      break;
    }
    case 'get': {
      const id = model.resolve(op.target);
      expect(await store.get(id), label).toStrictEqual(model.byId(id));
      break;
    }
    case 'recent': {
      expect(await store.recent(op.conversationId, op.n), label).toStrictEqual(
        model.visible(op.conversationId).slice(-op.n),
      );
      break;
    }
    case 'list': {
      const pages: { messages: Message[]; more: boolean }[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(op.conversationId, {
          order: op.order,
          limit: op.limit,
          includeDeleted: op.includeDeleted,
          ...(cursor === undefined ? {} : { cursor }),
        });
        pages.push({ messages: page.messages, more: page.next !== undefined });
        cursor = page.next;
      } while (cursor !== undefined && pages.length < 100);
      expect(pages, label).toStrictEqual(model.pages(op.conversationId, op.order, op.limit, op.includeDeleted));
      break;
    }
    case 'around': {
      expect(
        await store.around(op.conversationId, op.seq, { before: op.before, after: op.after }),
        label,
      ).toStrictEqual(model.around(op.conversationId, op.seq, op.before, op.after));
      break;
    }
  }
  for (const conversationId of CONVERSATIONS) {
    const conversation = await store.getConversation(conversationId);
    expect(
      conversation === undefined
        ? undefined
        : { lastSeq: conversation.lastSeq, messageCount: conversation.messageCount },
      `${label} → conversation ${conversationId}`,
    ).toStrictEqual(model.conversation(conversationId));
  }
}

describe.each(backends)('reference model on $name', (entry) => {
  test('random operation sequences give the model’s results', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const { store, cleanup } = await entry.open(atT0);
        try {
          const model = new Model();
          for (const op of ops) await step(store, model, op);
          // Finally every message, deleted ones included, is exactly the model's.
          for (const conversationId of CONVERSATIONS) {
            const all = await store.list(conversationId, { limit: 1000, includeDeleted: true });
            expect(all.messages).toStrictEqual(model.visible(conversationId, true));
          }
        } finally {
          await cleanup();
        }
      }),
      { numRuns: 30 },
    );
  });
});

/** A scripted workload over most of the API; every answer is recorded, scores as their order only. */
async function scriptedWorkload(store: ChatStoreApi): Promise<unknown[]> {
  const log: unknown[] = [];
  const record = async (what: string, run: () => Promise<unknown>) => {
    log.push([what, await outcome(run)]);
  };
  const searchIds = async (query: string, options = {}) => {
    const page = await store.search(query, options);
    return page.hits.map((hit) => ({ id: hit.message.id, message: hit.message, snippet: hit.snippet }));
  };
  await record('create', () =>
    store.createConversation('group', { type: 'group', title: 'Team', participants: [{ id: 'ana', name: 'Ana' }] }),
  );
  for (let i = 0; i < 12; i++) {
    await record(`append ${i}`, () =>
      store.append(i % 3 === 0 ? 'group' : `+1555000${i % 2}`, [
        {
          role: 'user',
          content: `order ${i} refund café ${'words '.repeat(i % 4)}`,
          senderId: i % 2 === 0 ? 'ana' : 'bob',
          recipientId: 'bot',
          externalId: `wamid.${i}`,
          metadata: { i, tags: [`t${i % 3}`], nested: { ok: i % 2 === 0 } },
        },
        {
          role: 'assistant',
          content: i % 5 === 0 ? '' : `/reply ${i} order`,
          senderId: 'bot',
          recipientId: i % 2 === 0 ? 'ana' : 'bob',
          status: 'sent',
          ...(i % 5 === 0 ? { media: [{ url: `https://cdn.example/${i}.jpg`, type: 'image', size: i }] } : {}),
        },
      ]),
    );
  }
  await record('dup', () => store.append('group', { role: 'user', content: 'again', externalId: 'wamid.0' }));
  await record('status read', () => store.updateStatus('id-2', 'read'));
  await record('status failed', () => store.updateStatus('id-4', 'failed', { error: { message: 'no' } }));
  await record('status late', () => store.updateStatus('id-2', 'delivered'));
  await record('edit', () => store.edit('id-5', { content: 'changed order text', metadata: { i: null, extra: 1 } }));
  await record('soft delete', () => store.delete('id-7'));
  await record('hard delete', () => store.delete('id-9', { hard: true }));
  await record('update conversation', () =>
    store.updateConversation('group', { metadata: { a: { b: 1 } }, title: null }),
  );
  await record('add participants', () => store.addParticipants('group', [{ id: 'zed', kind: 'ai' }]));
  await record('remove participant', () => store.removeParticipant('group', 'bob'));
  for (const id of ['group', '+15550000', '+15550001']) {
    await record(`conversation ${id}`, () => store.getConversation(id));
    await record(`list ${id}`, () => store.list(id, { includeDeleted: true, limit: 1000 }));
    await record(`recent ${id}`, () => store.recent(id, 3));
    await record(`context ${id}`, () => store.context(id, { maxTokens: 40 }));
    await record(`around ${id}`, () => store.around(id, 3, { before: 2, after: 2 }));
    await record(`stats ${id}`, () => store.stats(id));
  }
  await record('stats', () => store.stats());
  await record('conversations', () => store.listConversations());
  await record('conversations of ana', () => store.listConversations({ participantId: 'ana' }));
  await record('conversations by type', () => store.listConversations({ type: 'group' }));
  await record('search order', () => searchIds('order'));
  await record('search refund cafe', () => searchIds('REFUND Cafe'));
  await record('search by sender', () => searchIds('order', { senderId: 'bob' }));
  await record('search in conversation', () => searchIds('order', { conversationId: 'group', limit: 3 }));
  await record('by external id', () => store.getByExternalId('wamid.3'));
  await record('erase', () => store.eraseSubject('+15550001'));
  await record('erase ana', () => store.eraseSubject('ana'));
  await record('after erase', async () => {
    const all: Message[] = [];
    for await (const message of store.export({ includeDeleted: true })) all.push(message);
    return all;
  });
  await record('stats after erase', () => store.stats());
  await record('conversations after erase', () => store.listConversations({ includeDeleted: true }));
  return log;
}

const reference = ALL_BACKENDS.find((candidate) => candidate.name === 'memory') as BackendEntry;

/** Every other backend against the memory backend, the simplest implementation of the contract. */
describe.each(backends.filter((entry) => entry.name !== reference.name))(
  'same answers as the memory backend on $name',
  (entry) => {
    test('a scripted workload gives answers identical to the reference backend', async () => {
      const run = async (backend: BackendEntry) => {
        let next = 0;
        const { store, cleanup } = await backend.open({ now: tickingClock(), newId: () => `id-${++next}` });
        try {
          return await scriptedWorkload(store);
        } finally {
          await cleanup();
        }
      };
      const [expected, actual] = [await run(reference), await run(entry)];
      // An engine without full-text search answers every search step UNSUPPORTED, and the rest alike.
      const searchless = (step: unknown) =>
        String((step as [string])[0]).startsWith('search') ? [(step as [string])[0], { error: 'UNSUPPORTED' }] : step;
      expect(actual).toStrictEqual(hasSearch(entry) ? expected : expected.map(searchless));
      // The script must exercise something: most steps succeed.
      expect(expected.filter((step) => 'value' in ((step as [string, Outcome])[1] ?? {})).length).toBeGreaterThan(50);
    });
  },
);
