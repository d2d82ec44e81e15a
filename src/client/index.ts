/**
 * `chatstore/client`: the store over its HTTP API (docs/client.md). `chatStoreClient` returns a
 * `ChatStoreApi`, the contract `ChatStore` keeps, so code written for one runs on the other: the
 * same methods, arguments, results and `ChatStoreError` codes. Web APIs only; `fetch` is injectable.
 */
import type { ChatStoreApi } from '../api.js';
import type { ArchiveRunReport, ArchiveStats, CompactionReport } from '../backend.js';
import { ChatStoreError } from '../errors.js';
import { newMessageId } from '../ids.js';
import type {
  AppendResult,
  ContextMessage,
  Conversation,
  ConversationPage,
  ErasureReceipt,
  Message,
  NewMessage,
  Page,
  SearchPage,
  Stats,
} from '../model.js';
import type { ArchivedPage, ExportFilter, ExportRecord, RetentionReport } from '../store/options.js';
import { createTransport, type FetchFunction, type HttpRequest } from './transport.js';

export type { FetchFunction } from './transport.js';

/** @example chatStoreClient({ url: 'https://chat.example.com', apiKey: process.env.CHATSTORE_API_KEY }) */
export interface ChatStoreClientOptions {
  /** Where the server answers: `http://127.0.0.1:8080`, or a base path in front of `/v1`. */
  url: string;
  /** Sent as `Authorization: Bearer <key>`; a server without keys serves loopback clients without one. */
  apiKey?: string;
  /** The `fetch` to call. Default: the global one (Node 20+, browsers, Workers). */
  fetch?: FetchFunction;
  /** Further attempts after a failure a retry can cure (network, timeout, 429, 5xx but 501). Default 2. */
  retries?: number;
  /** The wait before the first retry, doubled for each next one (at most 5 s). Default 200. */
  retryDelayMs?: number;
  /** How long one attempt may take (for an export: until its first byte). Default 30000. */
  timeoutMs?: number;
  /**
   * Ids for messages appended without one. The client names them before the first attempt, so a
   * retried append stores nothing twice. Default: a time-sortable UUIDv7, as the store makes them.
   */
  newId?: () => string;
}

/**
 * @example
 * import { chatStoreClient } from 'chatstore/client';
 * const store = chatStoreClient({ url: 'http://127.0.0.1:8080' });
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 * const last = await store.recent('+15550001', 20);
 */
export function chatStoreClient(options: ChatStoreClientOptions): ChatStoreApi {
  const fetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const transport = createTransport({
    url: options.url,
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    fetch: fetchFunction,
    retries: options.retries ?? 2,
    retryDelayMs: options.retryDelayMs ?? 200,
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const newId = options.newId ?? newMessageId;
  let closed = false;

  const open = (): void => {
    if (closed) throw new ChatStoreError('UNAVAILABLE', 'the store is closed');
  };
  const call = async <T>(request: HttpRequest): Promise<T> => {
    open();
    return transport.json<T>(request);
  };
  /** A read whose 404 NOT_FOUND means "there is none". */
  const lookup = async <T>(request: HttpRequest): Promise<T | undefined> => {
    try {
      return await call<T>(request);
    } catch (error) {
      if (error instanceof ChatStoreError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  };
  /** A delete whose 404 NOT_FOUND means "there was none": false. */
  const removal = async (request: HttpRequest): Promise<boolean> =>
    (await lookup<{ deleted: true }>({ ...request, retry: false })) !== undefined;

  async function* records(filter: ExportFilter): AsyncGenerator<ExportRecord> {
    open();
    const response = await transport.send(
      {
        method: 'GET',
        path: '/v1/export',
        query: {
          conversationId: filter.conversationId,
          from: timeParam(filter.from),
          to: timeParam(filter.to),
          includeDeleted: flagParam(filter.includeDeleted),
        },
      },
      { stream: true },
    );
    yield* ndjson<ExportRecord>(response);
  }

  const conversationPath = (id: string) => `/v1/conversations/${segment(id, 'id')}`;

  return {
    async append(conversationId, input, appendOptions = {}) {
      const messages = Array.isArray(input) ? input.map(named) : named(input);
      // One key for every attempt of this call; the messages carry their ids, so a retry is a duplicate.
      const headers = { 'idempotency-key': newMessageId() };
      const path = `${conversationPath(conversationId)}/messages`;
      if (!Array.isArray(messages) && appendOptions.conversation === undefined) {
        const result = await call<AppendResult>({
          method: 'POST',
          path,
          headers,
          query: { expectedLastSeq: appendOptions.expectedLastSeq },
          body: messages,
        });
        return [result];
      }
      const { results } = await call<{ results: AppendResult[] }>({
        method: 'POST',
        path,
        headers,
        body: {
          messages: Array.isArray(messages) ? messages : [messages],
          ...(appendOptions.expectedLastSeq === undefined ? {} : { expectedLastSeq: appendOptions.expectedLastSeq }),
          ...(appendOptions.conversation === undefined ? {} : { conversation: appendOptions.conversation }),
        },
      });
      return results;
    },

    async restore(conversationId, messages, restoreOptions = {}) {
      const { results } = await call<{ results: AppendResult[] }>({
        method: 'POST',
        path: `${conversationPath(conversationId)}/restore`,
        body: { messages, ...restoreOptions },
      });
      return results;
    },

    get: (id) => lookup<Message>({ method: 'GET', path: `/v1/messages/${segment(id, 'id')}` }),

    getByExternalId: (externalId, conversationId) =>
      lookup<Message>({
        method: 'GET',
        path: `/v1/messages/by-external-id/${segment(externalId, 'externalId')}`,
        query: { conversationId },
      }),

    async recent(conversationId, n) {
      const path = `${conversationPath(conversationId)}/messages/recent`;
      return (await call<{ messages: Message[] }>({ method: 'GET', path, query: { n } })).messages;
    },

    list: (conversationId, listOptions = {}) =>
      call<Page>({
        method: 'GET',
        path: `${conversationPath(conversationId)}/messages`,
        query: {
          ...listOptions,
          from: timeParam(listOptions.from),
          to: timeParam(listOptions.to),
          includeDeleted: flagParam(listOptions.includeDeleted),
        },
      }),

    async around(conversationId, seqOrId, aroundOptions = {}) {
      const anchor = typeof seqOrId === 'number' ? { seq: seqOrId } : { messageId: seqOrId };
      const { messages } = await call<{ messages: Message[] }>({
        method: 'GET',
        path: `${conversationPath(conversationId)}/messages/around`,
        query: { ...aroundOptions, ...anchor, includeDeleted: flagParam(aroundOptions.includeDeleted) },
      });
      return messages;
    },

    async context(conversationId, contextOptions = {}) {
      const { countTokens, maxTokens, maxMessages } = contextOptions;
      const path = `${conversationPath(conversationId)}/context`;
      if (countTokens === undefined) {
        return (await call<{ messages: ContextMessage[] }>({ method: 'GET', path, query: { maxMessages, maxTokens } }))
          .messages;
      }
      // A function cannot cross HTTP: the server picks the newest messages within maxMessages, and
      // the budget is counted here, newest first, stopping at the first that does not fit, as the
      // store counts it.
      const budget = maxTokens ?? Number.POSITIVE_INFINITY;
      if (typeof budget !== 'number' || Number.isNaN(budget) || budget < 0) {
        throw new ChatStoreError('INVALID_ARGUMENT', 'maxTokens must be a non-negative number', { path: 'maxTokens' });
      }
      const { messages } = await call<{ messages: ContextMessage[] }>({ method: 'GET', path, query: { maxMessages } });
      let tokens = 0;
      let first = messages.length;
      while (first > 0) {
        const cost = countTokens(messages[first - 1] as ContextMessage);
        if (tokens + cost > budget) break;
        tokens += cost;
        first--;
      }
      return messages.slice(first);
    },

    search: (query, searchOptions = {}) =>
      call<SearchPage>({
        method: 'GET',
        path: '/v1/search',
        query: { ...searchOptions, q: query, from: timeParam(searchOptions.from), to: timeParam(searchOptions.to) },
      }),

    updateStatus: (idOrExternalId, status, statusOptions = {}) =>
      call<Message>({
        method: 'POST',
        path: `/v1/messages/${segment(idOrExternalId, 'idOrExternalId')}/status`,
        body: {
          status,
          ...statusOptions,
          ...(statusOptions.at instanceof Date ? { at: dateText(statusOptions.at) } : {}),
        },
      }),

    edit: (id, changes) => call<Message>({ method: 'PATCH', path: `/v1/messages/${segment(id, 'id')}`, body: changes }),

    delete: (id, deleteOptions = {}) =>
      removal({
        method: 'DELETE',
        path: `/v1/messages/${segment(id, 'id')}`,
        query: { hard: flagParam(deleteOptions.hard), compact: flagParam(deleteOptions.compact) },
      }),

    getConversation: (id) => lookup<Conversation>({ method: 'GET', path: conversationPath(id) }),

    listConversations: (listOptions = {}) =>
      call<ConversationPage>({
        method: 'GET',
        path: '/v1/conversations',
        query: { ...listOptions, includeDeleted: flagParam(listOptions.includeDeleted) },
      }),

    createConversation: (id, init = {}) =>
      call<Conversation>({ method: 'POST', path: '/v1/conversations', body: { ...init, id }, retry: false }),

    updateConversation: (id, patch) => call<Conversation>({ method: 'PATCH', path: conversationPath(id), body: patch }),

    addParticipants: (id, participants) =>
      call<Conversation>({ method: 'POST', path: `${conversationPath(id)}/participants`, body: { participants } }),

    removeParticipant: (id, participantId) =>
      call<Conversation>({
        method: 'DELETE',
        path: `${conversationPath(id)}/participants/${segment(participantId, 'participantId')}`,
        retry: false,
      }),

    deleteConversation: (id, deleteOptions = {}) =>
      removal({
        method: 'DELETE',
        path: conversationPath(id),
        query: { hard: flagParam(deleteOptions.hard), compact: flagParam(deleteOptions.compact) },
      }),

    stats: (conversationId) => call<Stats>({ method: 'GET', path: '/v1/stats', query: { conversationId } }),

    eraseSubject: (participantId, eraseOptions = {}) =>
      call<ErasureReceipt>({
        method: 'POST',
        path: '/v1/erasures',
        query: { compact: flagParam(eraseOptions.compact) },
        body: { subjectId: participantId },
        retry: false,
      }),

    compact: () => call<CompactionReport>({ method: 'POST', path: '/admin/storage/compact', body: {}, retry: false }),

    async *export(filter = {}) {
      for await (const record of records(filter)) if (!('conversation' in record)) yield record;
    },

    exportRecords: (filter = {}) => records(filter),

    archive: (archiveOptions = {}) =>
      call<ArchiveRunReport>({
        method: 'POST',
        path: '/admin/storage/archive',
        body: {
          ...archiveOptions,
          ...(archiveOptions.before instanceof Date ? { before: dateText(archiveOptions.before) } : {}),
        },
        retry: false,
      }),

    async listArchived(listOptions = {}) {
      const { conversations, next } = await call<ArchivedPage>({
        method: 'GET',
        path: '/admin/storage/archive',
        query: { ...listOptions },
      });
      return next === undefined ? { conversations } : { conversations, next };
    },

    async restoreArchived(conversationId) {
      const path = `/admin/storage/archive/${segment(conversationId, 'conversationId')}/restore`;
      return (await call<{ restored: boolean }>({ method: 'POST', path, retry: false })).restored;
    },

    async archiveStats() {
      return (await call<{ archive?: ArchiveStats }>({ method: 'GET', path: '/admin/storage/stats' })).archive;
    },

    applyRetention: (retentionOptions) =>
      call<RetentionReport>({
        method: 'POST',
        path: '/admin/storage/retention',
        body: {
          ...retentionOptions,
          ...(retentionOptions.before instanceof Date ? { before: dateText(retentionOptions.before) } : {}),
        },
        retry: false,
      }),

    async close() {
      closed = true;
    },
  };

  /** The message with an id of its own, so every attempt of the call sends the same one. */
  function named(message: NewMessage): NewMessage {
    if (typeof message !== 'object' || message === null || Array.isArray(message) || message.id !== undefined) {
      return message;
    }
    return { ...message, id: newId() };
  }
}

/**
 * A path segment. An empty one cannot be sent (the path would name another route), so it is
 * refused here as the store refuses an empty id.
 */
function segment(value: string, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new ChatStoreError('INVALID_ARGUMENT', `${name} must be a non-empty string`, { path: name });
  }
  return encodeURIComponent(value);
}

/** A time as the query takes it: ISO text. What is not a time is sent as written, for the store to refuse by name. */
function timeParam(value: string | Date | number | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (value instanceof Date) return dateText(value);
  return Number.isFinite(value) ? dateText(new Date(value)) : String(value);
}

function dateText(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

function flagParam(value: boolean | undefined): 'true' | undefined {
  return value === true ? 'true' : undefined;
}

/** The lines of an NDJSON body as they arrive, never the whole body at once. */
async function* ndjson<T>(response: Response): AsyncGenerator<T> {
  const body = response.body;
  if (body === null) return;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await reader.read();
      } catch (cause) {
        throw new ChatStoreError('UNAVAILABLE', 'the export stream broke off', { cause });
      }
      if (read.done) break;
      buffered += decoder.decode(read.value, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line !== '') yield JSON.parse(line) as T;
    }
    buffered += decoder.decode();
    if (buffered.trim() !== '') yield JSON.parse(buffered) as T;
  } finally {
    await reader.cancel().catch(() => {});
  }
}
