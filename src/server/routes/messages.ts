/**
 * Messages: append (in `append.ts`), list with a cursor both ways, recent, around, the AI context
 * window, get by id or external id, edit, delete, status updates.
 */
import { ChatStoreError } from '../../errors.js';
import type { EditOptions } from '../../store.js';
import { invalid } from '../../validate.js';
import {
  AroundQuery,
  ContextQuery,
  ContextSchema,
  ConversationParams,
  DeletedSchema,
  EditBody,
  ExternalIdParams,
  ExternalIdQuery,
  HardDeleteQuery,
  ListQuery,
  MessagePageSchema,
  MessageParams,
  MessageSchema,
  MessagesSchema,
  RecentQuery,
  StatusBody,
} from '../schemas.js';
import { registerAppendRoute } from './append.js';
import { registerRestoreRoute } from './restore.js';
import { type App, access, demandScope, errors, flag, json, jsonBody, type RouteDeps, route } from './route-kit.js';

const TAG = ['messages'];

/** Registers the message routes, in the order the OpenAPI document lists them. */
export function registerMessageRoutes(app: App, deps: RouteDeps): void {
  registerAppendRoute(app, deps);
  registerRestoreRoute(app, deps);
  registerReadRoutes(app, deps);
  registerChangeRoutes(app, deps);
}

/** Pages, the tail, a window around a message, the LLM context, and single messages. */
function registerReadRoutes(app: App, deps: RouteDeps): void {
  const { store, metrics, keyring } = deps;
  const read = access(keyring, 'read');
  const reading = <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    metrics.reads.inc({ operation });
    return metrics.timeStore(operation, work);
  };

  app.openapi(
    route({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}/messages',
      operationId: 'list',
      tags: TAG,
      summary: 'List messages with a cursor',
      description:
        'A page in seq order (`order=asc`, the default, or `desc`), with `next` when there is more: pass it as `cursor` with the same other parameters. Keyset pagination: pages stay stable while new messages arrive.',
      request: { params: ConversationParams, query: ListQuery },
      responses: { 200: json(MessagePageSchema, 'a page of messages'), ...errors() },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const { includeDeleted, ...query } = c.req.valid('query');
      const page = await reading('list', () =>
        store.list(conversationId, { ...query, includeDeleted: flag(includeDeleted) }),
      );
      return c.json(page, 200);
    },
  );

  app.openapi(
    route({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}/messages/recent',
      operationId: 'recent',
      tags: TAG,
      summary: 'The last n messages',
      description: 'The newest `n` (default 20) messages that are not deleted, oldest first.',
      request: { params: ConversationParams, query: RecentQuery },
      responses: { 200: json(MessagesSchema, 'oldest first'), ...errors() },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const { n } = c.req.valid('query');
      const messages = await reading('recent', () => store.recent(conversationId, n));
      return c.json({ messages }, 200);
    },
  );

  app.openapi(
    route({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}/messages/around',
      operationId: 'around',
      tags: TAG,
      summary: 'The messages around one',
      description:
        'A window around an anchor given by `seq` or `messageId` (e.g. a search hit), oldest first, anchor included.',
      request: { params: ConversationParams, query: AroundQuery },
      responses: { 200: json(MessagesSchema, 'oldest first'), ...errors(404) },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const { seq, messageId, includeDeleted, ...window } = c.req.valid('query');
      if ((seq === undefined) === (messageId === undefined))
        throw invalid('seq', 'or messageId is required (one of them)');
      const anchor = seq ?? (messageId as string);
      const messages = await reading('around', () =>
        store.around(conversationId, anchor, { ...window, includeDeleted: flag(includeDeleted) }),
      );
      return c.json({ messages }, 200);
    },
  );

  app.openapi(
    route({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}/context',
      operationId: 'context',
      tags: TAG,
      summary: 'The AI context window',
      description:
        'The newest messages that fit `maxMessages` (default 50) and `maxTokens`, oldest first, as `{ role, content }` ready for an LLM.',
      request: { params: ConversationParams, query: ContextQuery },
      responses: { 200: json(ContextSchema, 'oldest first'), ...errors() },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const query = c.req.valid('query');
      const messages = await reading('context', () => store.context(conversationId, query));
      return c.json({ messages }, 200);
    },
  );

  // The first path, `/v1/messages/by-external-id/{externalId}`, has the shape of
  // `/v1/messages/{messageId}/status`: OpenAPI tools cannot tell the two apart. It still answers,
  // out of the document (docs/http-api.md lists it as deprecated).
  for (const { path, hide } of [
    { path: '/v1/messages-by-external-id/{externalId}', hide: false },
    { path: '/v1/messages/by-external-id/{externalId}', hide: true },
  ] as const) {
    app.openapi(
      route({
        ...read,
        hide,
        method: 'get',
        path,
        operationId: 'getByExternalId',
        tags: TAG,
        summary: 'Get a message by the provider’s id',
        description: 'Without `conversationId`, the first match across conversations.',
        request: { params: ExternalIdParams, query: ExternalIdQuery },
        responses: { 200: json(MessageSchema, 'the message'), ...errors(404) },
      }),
      async (c) => {
        const { externalId } = c.req.valid('param');
        const { conversationId } = c.req.valid('query');
        const message = await reading('get', () => store.getByExternalId(externalId, conversationId));
        if (message === undefined)
          throw new ChatStoreError('NOT_FOUND', `message with external id ${externalId} not found`);
        return c.json(message, 200);
      },
    );
  }

  app.openapi(
    route({
      ...read,
      method: 'get',
      path: '/v1/messages/{messageId}',
      operationId: 'get',
      tags: TAG,
      summary: 'Get a message',
      description: 'Soft-deleted messages are returned too, with `deletedAt`.',
      request: { params: MessageParams },
      responses: { 200: json(MessageSchema, 'the message'), ...errors(404) },
    }),
    async (c) => {
      const { messageId } = c.req.valid('param');
      const message = await reading('get', () => store.get(messageId));
      if (message === undefined) throw new ChatStoreError('NOT_FOUND', `message ${messageId} not found`);
      return c.json(message, 200);
    },
  );
}

/** Edits, deletes and status updates of one message. */
function registerChangeRoutes(app: App, deps: RouteDeps): void {
  const { store, metrics, keyring } = deps;
  const write = access(keyring, 'write');

  app.openapi(
    route({
      ...write,
      method: 'patch',
      path: '/v1/messages/{messageId}',
      operationId: 'edit',
      tags: TAG,
      summary: 'Edit a message',
      description:
        'Replaces `content` and `parts` (each when given; one is never derived from the other) and merges `metadata` (JSON merge patch); sets `editedAt`. Invalid parts are 400 and change nothing.',
      request: { params: MessageParams, body: jsonBody(EditBody) },
      responses: { 200: json(MessageSchema, 'the edited message'), ...errors(404, 413, 415) },
    }),
    async (c) => {
      const { messageId } = c.req.valid('param');
      const changes = c.req.valid('json') as EditOptions;
      const message = await metrics.timeStore('edit', () => store.edit(messageId, changes));
      return c.json(message, 200);
    },
  );

  app.openapi(
    route({
      ...write,
      method: 'delete',
      path: '/v1/messages/{messageId}',
      operationId: 'delete',
      tags: TAG,
      summary: 'Delete a message',
      description:
        "Soft by default (hidden from reads, search and context); `hard=true` removes it for good; `hard=true&compact=true` (admin scope) also rewrites the engine's storage.",
      request: { params: MessageParams, query: HardDeleteQuery },
      responses: { 200: json(DeletedSchema, 'deleted'), ...errors(404) },
    }),
    async (c) => {
      const { messageId } = c.req.valid('param');
      const query = c.req.valid('query');
      const hard = flag(query.hard);
      const compact = flag(query.compact);
      if (compact) demandScope(c, keyring, 'admin', 'compact=true');
      const deleted = await metrics.timeStore('delete', () => store.delete(messageId, { hard, compact }));
      if (!deleted) throw new ChatStoreError('NOT_FOUND', `message ${messageId} not found`);
      return c.json({ deleted: true as const, hard }, 200);
    },
  );

  app.openapi(
    route({
      ...write,
      method: 'post',
      path: '/v1/messages/{messageId}/status',
      operationId: 'updateStatus',
      tags: TAG,
      summary: 'Report a delivery status',
      description:
        'By message id or the provider’s external id. The stored status only moves forward (queued < sent < delivered < read; failed is terminal unless delivered/read proves otherwise); every reported time is kept in `statusAt`.',
      request: { params: MessageParams, body: jsonBody(StatusBody) },
      responses: { 200: json(MessageSchema, 'the message after the update'), ...errors(404, 415) },
    }),
    async (c) => {
      const { messageId } = c.req.valid('param');
      const { status, ...options } = c.req.valid('json');
      const message = await metrics.timeStore('updateStatus', () => store.updateStatus(messageId, status, options));
      return c.json(message, 200);
    },
  );
}
