/**
 * Appending messages over HTTP: one message or a batch, with `Idempotency-Key` (see below and
 * `idempotency.ts`).
 */
import type { ZodError } from 'zod';
import type { AppendResult, NewConversation, NewMessage } from '../../model.js';
import { validationError } from '../errors.js';
import { differingField, keyReused } from '../idempotency.js';
import {
  AppendBatchSchema,
  AppendBody,
  AppendHeaders,
  AppendQuery,
  AppendResponse,
  ConversationParams,
  NewMessageSchema,
} from '../schemas.js';
import { type App, access, errors, json, jsonBody, type RouteDeps, route } from './route-kit.js';

const TAG = ['messages'];

/**
 * Registers `POST /v1/conversations/{conversationId}/messages`.
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
export function registerAppendRoute(app: App, deps: RouteDeps): void {
  const { store, metrics, keyring } = deps;
  const write = access(keyring, 'write');

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
    route({
      ...write,
      method: 'post',
      path: '/v1/conversations/{conversationId}/messages',
      operationId: 'append',
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
