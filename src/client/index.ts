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
import type {
  ArchivedPage,
  DeleteOptions,
  ExportFilter,
  ExportRecord,
  RetentionReport,
  SubjectExportRecord,
} from '../store/options.js';
import {
  flagParam,
  jsonBody,
  numberParam,
  type PathMap,
  prefixed,
  renamed,
  segment,
  textParam,
  timeParam,
  under,
} from './arguments.js';
import { ndjson } from './ndjson.js';
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
  /**
   * One call: its body made JSON, sent, and its errors' paths named as the call's arguments name
   * them (`paths`), so a caller sees what `ChatStore` would have said.
   */
  const call = async <T>(request: () => HttpRequest, paths?: PathMap): Promise<T> => {
    try {
      open();
      const built = request();
      const body = built.body === undefined ? undefined : jsonBody(built.body);
      return await transport.json<T>({ ...built, body });
    } catch (error) {
      throw paths === undefined ? error : renamePath(error, paths);
    }
  };
  /** A read whose 404 NOT_FOUND means "there is none". */
  const lookup = async <T>(request: () => HttpRequest, paths?: PathMap): Promise<T | undefined> => {
    try {
      return await call<T>(request, paths);
    } catch (error) {
      if (error instanceof ChatStoreError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  };
  /** A delete whose 404 NOT_FOUND means "there was none": false. */
  const removal = async (request: () => HttpRequest): Promise<boolean> =>
    (await lookup<{ deleted: true }>(() => ({ ...request(), retry: false }))) !== undefined;

  async function* records(filter: ExportFilter): AsyncGenerator<ExportRecord> {
    open();
    const response = await transport.send(
      {
        method: 'GET',
        path: '/v1/export',
        query: {
          conversationId: textParam(filter.conversationId, 'conversationId'),
          from: timeParam(filter.from),
          to: timeParam(filter.to),
          includeDeleted: flagParam(filter.includeDeleted, 'includeDeleted'),
        },
      },
      { stream: true },
    );
    yield* ndjson<ExportRecord>(response);
  }

  async function* subjectRecords(participantId: string): AsyncGenerator<SubjectExportRecord> {
    open();
    const path = `/v1/subjects/${segment(participantId, 'participantId')}/export`;
    yield* ndjson<SubjectExportRecord>(await transport.send({ method: 'GET', path }, { stream: true }));
  }

  const conversationPath = (id: string, name = 'conversationId') => `/v1/conversations/${segment(id, name)}`;
  const deleteQuery = (deleteOptions: DeleteOptions) => ({
    hard: flagParam(deleteOptions.hard, 'hard'),
    compact: flagParam(deleteOptions.compact, 'compact'),
  });

  return {
    async append(conversationId, input, appendOptions = {}) {
      // Always the batch form, so the conversation option goes too; one message's paths then read
      // `message.…`, as the store names them.
      const single = !Array.isArray(input);
      const { results } = await call<{ results: AppendResult[] }>(
        () => ({
          method: 'POST',
          path: `${conversationPath(conversationId)}/messages`,
          // One key for every attempt of this call; the messages carry their ids, so a retry is a duplicate.
          headers: { 'idempotency-key': newMessageId() },
          body: {
            messages: Array.isArray(input) ? input.map(named) : [named(input)],
            expectedLastSeq: numberParam(appendOptions.expectedLastSeq, 'expectedLastSeq'),
            conversation: appendOptions.conversation,
          },
        }),
        single ? prefixed('messages[0]', 'message') : undefined,
      );
      return results;
    },

    async restore(conversationId, messages, restoreOptions = {}) {
      const { results } = await call<{ results: AppendResult[] }>(() => ({
        method: 'POST',
        path: `${conversationPath(conversationId)}/restore`,
        body: { messages, ...restoreOptions },
      }));
      return results;
    },

    async get(id) {
      return lookup<Message>(() => ({ method: 'GET', path: `/v1/messages/${segment(id, 'id')}` }));
    },

    async getByExternalId(externalId, conversationId) {
      return lookup<Message>(() => ({
        method: 'GET',
        path: `/v1/messages/by-external-id/${segment(externalId, 'externalId')}`,
        query: { conversationId: textParam(conversationId, 'conversationId') },
      }));
    },

    async recent(conversationId, n) {
      const { messages } = await call<{ messages: Message[] }>(() => ({
        method: 'GET',
        path: `${conversationPath(conversationId)}/messages/recent`,
        query: { n: numberParam(n, 'n') },
      }));
      return messages;
    },

    async list(conversationId, listOptions = {}) {
      return call<Page>(() => ({
        method: 'GET',
        path: `${conversationPath(conversationId)}/messages`,
        query: {
          before: numberParam(listOptions.before, 'before'),
          after: numberParam(listOptions.after, 'after'),
          cursor: textParam(listOptions.cursor, 'cursor'),
          limit: numberParam(listOptions.limit, 'limit'),
          order: textParam(listOptions.order, 'order'),
          from: timeParam(listOptions.from),
          to: timeParam(listOptions.to),
          includeDeleted: flagParam(listOptions.includeDeleted, 'includeDeleted'),
        },
      }));
    },

    async around(conversationId, seqOrId, aroundOptions = {}) {
      const { messages } = await call<{ messages: Message[] }>(
        () => ({
          method: 'GET',
          path: `${conversationPath(conversationId)}/messages/around`,
          query: {
            ...(typeof seqOrId === 'number' ? { seq: seqOrId } : { messageId: seqOrId }),
            before: numberParam(aroundOptions.before, 'before'),
            after: numberParam(aroundOptions.after, 'after'),
            includeDeleted: flagParam(aroundOptions.includeDeleted, 'includeDeleted'),
          },
        }),
        renamed({ seq: 'seqOrId', messageId: 'seqOrId' }),
      );
      return messages;
    },

    async context(conversationId, contextOptions = {}) {
      const { countTokens, maxTokens } = contextOptions;
      const maxMessages = numberParam(contextOptions.maxMessages, 'maxMessages');
      const path = () => `${conversationPath(conversationId)}/context`;
      if (countTokens === undefined) {
        const query = { maxMessages, maxTokens: numberParam(maxTokens, 'maxTokens') };
        return (await call<{ messages: ContextMessage[] }>(() => ({ method: 'GET', path: path(), query }))).messages;
      }
      // A function cannot cross HTTP: the server picks the newest messages within maxMessages, and
      // the budget is counted here, newest first, stopping at the first that does not fit, as the
      // store counts it.
      const budget = maxTokens ?? Number.POSITIVE_INFINITY;
      if (typeof budget !== 'number' || Number.isNaN(budget) || budget < 0) {
        throw new ChatStoreError('INVALID_ARGUMENT', 'maxTokens must be a non-negative number', { path: 'maxTokens' });
      }
      const { messages } = await call<{ messages: ContextMessage[] }>(() => ({
        method: 'GET',
        path: path(),
        query: { maxMessages },
      }));
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

    async search(query, searchOptions = {}) {
      return call<SearchPage>(
        () => ({
          method: 'GET',
          path: '/v1/search',
          query: {
            q: query,
            conversationId: textParam(searchOptions.conversationId, 'conversationId'),
            senderId: textParam(searchOptions.senderId, 'senderId'),
            from: timeParam(searchOptions.from),
            to: timeParam(searchOptions.to),
            limit: numberParam(searchOptions.limit, 'limit'),
            cursor: textParam(searchOptions.cursor, 'cursor'),
          },
        }),
        renamed({ q: 'query' }),
      );
    },

    async updateStatus(idOrExternalId, status, statusOptions = {}) {
      return call<Message>(() => ({
        method: 'POST',
        path: `/v1/messages/${segment(idOrExternalId, 'idOrExternalId')}/status`,
        body: { status, ...statusOptions },
      }));
    },

    async edit(id, changes) {
      return call<Message>(() => ({ method: 'PATCH', path: `/v1/messages/${segment(id, 'id')}`, body: changes }));
    },

    async delete(id, deleteOptions = {}) {
      return removal(() => ({
        method: 'DELETE',
        path: `/v1/messages/${segment(id, 'id')}`,
        query: deleteQuery(deleteOptions),
      }));
    },

    async getConversation(id) {
      return lookup<Conversation>(() => ({ method: 'GET', path: conversationPath(id, 'id') }));
    },

    async listConversations(listOptions = {}) {
      return call<ConversationPage>(() => ({
        method: 'GET',
        path: '/v1/conversations',
        query: {
          participantId: textParam(listOptions.participantId, 'participantId'),
          type: textParam(listOptions.type, 'type'),
          channel: textParam(listOptions.channel, 'channel'),
          limit: numberParam(listOptions.limit, 'limit'),
          cursor: textParam(listOptions.cursor, 'cursor'),
          includeDeleted: flagParam(listOptions.includeDeleted, 'includeDeleted'),
        },
      }));
    },

    async createConversation(id, init = {}) {
      return call<Conversation>(
        () => ({ method: 'POST', path: '/v1/conversations', body: { ...init, id }, retry: false }),
        under('conversation', ['id']),
      );
    },

    async updateConversation(id, patch) {
      return call<Conversation>(
        () => ({ method: 'PATCH', path: conversationPath(id, 'id'), body: patch }),
        under('patch'),
      );
    },

    async addParticipants(id, participants) {
      return call<Conversation>(() => ({
        method: 'POST',
        path: `${conversationPath(id, 'id')}/participants`,
        body: { participants },
      }));
    },

    async removeParticipant(id, participantId) {
      return call<Conversation>(() => ({
        method: 'DELETE',
        path: `${conversationPath(id, 'id')}/participants/${segment(participantId, 'participantId')}`,
        retry: false,
      }));
    },

    async deleteConversation(id, deleteOptions = {}) {
      return removal(() => ({ method: 'DELETE', path: conversationPath(id, 'id'), query: deleteQuery(deleteOptions) }));
    },

    async stats(conversationId) {
      return call<Stats>(() => ({
        method: 'GET',
        path: '/v1/stats',
        query: { conversationId: textParam(conversationId, 'conversationId') },
      }));
    },

    async eraseSubject(participantId, eraseOptions = {}) {
      return call<ErasureReceipt>(
        () => ({
          method: 'POST',
          path: '/v1/erasures',
          query: { compact: flagParam(eraseOptions.compact, 'compact') },
          body: { subjectId: participantId },
          retry: false,
        }),
        renamed({ subjectId: 'participantId' }),
      );
    },

    exportSubject: (participantId) => subjectRecords(participantId),

    async compact() {
      return call<CompactionReport>(() => ({ method: 'POST', path: '/admin/storage/compact', retry: false }));
    },

    async *export(filter = {}) {
      for await (const record of records(filter)) if (!('conversation' in record)) yield record;
    },

    exportRecords: (filter = {}) => records(filter),

    async archive(archiveOptions = {}) {
      return call<ArchiveRunReport>(() => ({
        method: 'POST',
        path: '/admin/storage/archive',
        body: archiveOptions,
        retry: false,
      }));
    },

    async listArchived(listOptions = {}) {
      const { conversations, next } = await call<ArchivedPage>(() => ({
        method: 'GET',
        path: '/admin/storage/archive',
        query: { after: textParam(listOptions.after, 'after'), limit: numberParam(listOptions.limit, 'limit') },
      }));
      return next === undefined ? { conversations } : { conversations, next };
    },

    async restoreArchived(conversationId) {
      const { restored } = await call<{ restored: boolean }>(() => ({
        method: 'POST',
        path: `/admin/storage/archive/${segment(conversationId, 'conversationId')}/restore`,
        retry: false,
      }));
      return restored;
    },

    async archiveStats() {
      return (await call<{ archive?: ArchiveStats }>(() => ({ method: 'GET', path: '/admin/storage/stats' }))).archive;
    },

    async applyRetention(retentionOptions) {
      return call<RetentionReport>(() => ({
        method: 'POST',
        path: '/admin/storage/retention',
        body: retentionOptions,
        retry: false,
      }));
    },

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

/** The error with its path as the call names it. */
function renamePath(error: unknown, paths: PathMap): unknown {
  if (!(error instanceof ChatStoreError) || error.path === undefined) return error;
  const path = paths(error.path);
  if (path === error.path) return error;
  return new ChatStoreError(error.code, error.message, { path, cause: error.cause });
}
