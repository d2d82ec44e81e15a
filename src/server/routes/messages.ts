/**
 * Messages: append (one or a batch, with `Idempotency-Key`), list with a cursor both ways, recent,
 * around, the AI context window, get by id or external id, edit, delete, status updates.
 */
import { createRoute } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { ChatStoreError } from '../../errors.js';
import type { AppendResult, NewConversation, NewMessage } from '../../model.js';
import type { EditOptions } from '../../store.js';
import { invalid } from '../../validate.js';
import { validationError } from '../errors.js';
import { differingField, keyReused } from '../idempotency.js';
import {
  AppendBatchSchema,
  AppendBody,
  AppendHeaders,
  AppendQuery,
  AppendResponse,
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
  NewMessageSchema,
  RecentQuery,
  StatusBody,
} from '../schemas.js';
import { type App, access, errors, flag, json, jsonBody, type RouteDeps } from './route-kit.js';

const TAG = ['messages'];

/**
 * Registers the message routes.
 *
 * `Idempotency-Key` on append: when the body is a single message without an `id`, the key becomes
 * its `id`; in a batch, a message without an `id` at index `i` gets `<key>:<i>`. The store's
 * idempotency then does the rest: a retry returns the stored message with `duplicate: true` and
 * status 200 (201 when anything new was stored). Message ids are global, so a key reused in
 * another conversation is a 409 CONFLICT. A retry must repeat the payload (`idempotency.ts`):
 * another payload under a used key is 422 CONFLICT and stores nothing. One message is checked
 * against what the append found stored (a duplicate stores nothing); a batch is checked before the
 * append, so that none of its new messages is stored, and again after it, for a racing request.
 */
export function registerMessageRoutes(app: App, deps: RouteDeps): void {
  const { store, metrics, keyring } = deps;
  const read = access(keyring, 'read');
  const write = access(keyring, 'write');
  const reading = <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    metrics.reads.inc({ operation });
    return metrics.timeStore(operation, work);
  };

  /**
   * Before a batch under `key` is appended: when any of its keyed messages is stored (the key was
   * used), every keyed message must be stored with the same payload, or be a duplicate by its
   * `externalId` as it was the first time; else 422 before anything is stored.
   */
  const checkBatchRetry = async (
    key: string,
    conversationId: string,
    keyed: { id: string; message: NewMessage }[],
  ): Promise<void> => {
    // A lookup that fails (an id too long, say) is left to the append, which reports it by field.
    const find = (id: string) => store.get(id).catch(() => undefined);
    const stored = await metrics.timeStore('get', () => Promise.all(keyed.map(({ id }) => find(id))));
    // Unused, or used in another conversation (the append answers 409 for that).
    if (!stored.some((message) => message?.conversationId === conversationId)) return;
    for (const [i, { id, message }] of keyed.entries()) {
      const found = stored[i];
      if (found === undefined) {
        const externalId = message.externalId;
        const duplicate =
          externalId === undefined
            ? undefined
            : await metrics.timeStore('get', () =>
                store.getByExternalId(externalId, conversationId).catch(() => undefined),
              );
        if (duplicate === undefined) throw keyReused(key, `message ${id} is not stored`);
        continue;
      }
      if (found.conversationId !== conversationId) continue;
      const field = differingField(found, message);
      if (field !== undefined) throw keyReused(key, `${field} differs from the stored message ${id}`);
    }
  };

  app.openapi(
    createRoute({
      ...write,
      method: 'post',
      path: '/v1/conversations/{conversationId}/messages',
      tags: TAG,
      summary: 'Append a message or a batch',
      description:
        'The body is one message, or `{ messages: [...], expectedLastSeq?, conversation? }`. A batch is atomic: all new messages get consecutive seqs, or none is stored. A message whose `id` (or `externalId` in this conversation) is stored already comes back with `duplicate: true`. Appending to an unknown conversation creates it. Without an `id`, the `Idempotency-Key` header becomes the id (`<key>:<index>` in a batch); a retry must repeat the payload: another payload under a used key is 422 and stores nothing.',
      request: { params: ConversationParams, query: AppendQuery, headers: AppendHeaders, body: jsonBody(AppendBody) },
      responses: {
        200: json(AppendResponse, 'every message was a duplicate: nothing new was stored'),
        201: json(AppendResponse, 'stored; a single message returns `{ message, duplicate }`, a batch `{ results }`'),
        ...errors(409, 413, 415, 422),
      },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const body = c.req.valid('json');
      const query = c.req.valid('query');
      const key = c.req.valid('header')['idempotency-key'];
      const batch = 'messages' in body;
      const drafts = (batch ? body.messages : [body]) as NewMessage[];
      const messages =
        key === undefined
          ? drafts
          : drafts.map((message, index) =>
              message.id === undefined ? { ...message, id: batch ? `${key}:${index}` : key } : message,
            );
      // The messages whose id the key gave: the payload the key stands for.
      const keyed = messages.flatMap((message, index) =>
        key !== undefined && drafts[index]?.id === undefined ? [{ index, id: message.id as string, message }] : [],
      );
      if (key !== undefined && batch && keyed.length > 0) await checkBatchRetry(key, conversationId, keyed);
      const expectedLastSeq = (batch ? body.expectedLastSeq : undefined) ?? query.expectedLastSeq;
      const conversation = batch ? (body.conversation as NewConversation | undefined) : undefined;
      const results = await metrics.timeStore('append', () =>
        store.append(conversationId, batch ? messages : (messages[0] as NewMessage), {
          ...(expectedLastSeq === undefined ? {} : { expectedLastSeq }),
          ...(conversation === undefined ? {} : { conversation }),
        }),
      );
      for (const { index, id, message } of keyed) {
        const result = results[index];
        // A duplicate by externalId has another id: the key was not used for it.
        if (result?.duplicate !== true || result.message.id !== id) continue;
        const field = differingField(result.message, message);
        if (field !== undefined) throw keyReused(key as string, `${field} differs from the stored message ${id}`);
      }
      const created = results.filter((result) => !result.duplicate).length;
      if (created > 0) metrics.appended.inc({ result: 'created' }, created);
      if (created < results.length) metrics.appended.inc({ result: 'duplicate' }, results.length - created);
      const status = created > 0 ? 201 : 200;
      if (batch) return c.json({ results }, status);
      const [result] = results as [AppendResult];
      if (!result.duplicate) c.header('Location', `/v1/messages/${encodeURIComponent(result.message.id)}`);
      return c.json(result, status);
    },
    (result, c) => (result.success ? undefined : rejectAppend(result.target, result.error, () => c.req.json())),
  );

  app.openapi(
    createRoute({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}/messages',
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
    createRoute({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}/messages/recent',
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
    createRoute({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}/messages/around',
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
    createRoute({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}/context',
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

  app.openapi(
    createRoute({
      ...read,
      method: 'get',
      path: '/v1/messages/by-external-id/{externalId}',
      tags: TAG,
      summary: 'Get a message by the provider’s id',
      description: 'Without `conversationId`, the first match across conversations.',
      request: {
        params: ExternalIdParams,
        query: ExternalIdQuery,
      },
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

  app.openapi(
    createRoute({
      ...read,
      method: 'get',
      path: '/v1/messages/{messageId}',
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

  app.openapi(
    createRoute({
      ...write,
      method: 'patch',
      path: '/v1/messages/{messageId}',
      tags: TAG,
      summary: 'Edit a message',
      description: 'Replaces `content` and merges `metadata` (JSON merge patch); sets `editedAt`.',
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
    createRoute({
      ...write,
      method: 'delete',
      path: '/v1/messages/{messageId}',
      tags: TAG,
      summary: 'Delete a message',
      description: 'Soft by default (hidden from reads, search and context); `hard=true` removes it for good.',
      request: { params: MessageParams, query: HardDeleteQuery },
      responses: { 200: json(DeletedSchema, 'deleted'), ...errors(404) },
    }),
    async (c) => {
      const { messageId } = c.req.valid('param');
      const hard = flag(c.req.valid('query').hard);
      const deleted = await metrics.timeStore('delete', () => store.delete(messageId, { hard }));
      if (!deleted) throw new ChatStoreError('NOT_FOUND', `message ${messageId} not found`);
      return c.json({ deleted: true as const, hard }, 200);
    },
  );

  app.openapi(
    createRoute({
      ...write,
      method: 'post',
      path: '/v1/messages/{messageId}/status',
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

function isBatch(input: unknown): boolean {
  return typeof input === 'object' && input !== null && !Array.isArray(input) && 'messages' in input;
}

/**
 * A union reports whichever branch failed last; this says what is wrong with the form the body
 * meant: a batch when it has `messages`, one message otherwise.
 */
async function rejectAppend(target: string, error: ZodError, body: () => Promise<unknown>): Promise<never> {
  if (target !== 'json') throw validationError(error);
  const input = await body();
  const parsed = (isBatch(input) ? AppendBatchSchema : NewMessageSchema).safeParse(input);
  throw validationError(parsed.success ? error : parsed.error);
}
