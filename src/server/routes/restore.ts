/**
 * Restoring exported records over HTTP: the counterpart of `GET /v1/export`, what `chatstore
 * import` does with its lines. The body carries the records as the export wrote them; the store
 * checks every field (`ChatStore.restore`), so its 400s name the field as they do in process.
 */
import type { Conversation, Message } from '../../model.js';
import { ConversationParams, RestoreBody, RestoreResponse } from '../schemas.js';
import { type App, access, errors, json, jsonBody, type RouteDeps, route } from './route-kit.js';

/** Registers `POST /v1/conversations/{conversationId}/restore` (admin: it writes stored seqs, times and statuses). */
export function registerRestoreRoute(app: App, deps: RouteDeps): void {
  const { store, metrics, keyring } = deps;
  app.openapi(
    route({
      ...access(keyring, 'admin'),
      method: 'post',
      path: '/v1/conversations/{conversationId}/restore',
      operationId: 'restore',
      tags: ['export'],
      summary: 'Restore exported messages',
      description:
        'Stores messages of one conversation exactly as `GET /v1/export` wrote them (seq, id, times, status, deletes kept), atomically; `conversation` is the export’s `{"conversation": …}` record. A message stored already comes back with `duplicate: true`, so restoring the same lines again stores nothing. With `more: true`, later calls bring more of this conversation and the last one applies its `lastSeq`.',
      request: { params: ConversationParams, body: jsonBody(RestoreBody) },
      responses: {
        200: json(RestoreResponse, 'every message was stored already: nothing new was stored'),
        201: json(RestoreResponse, 'stored'),
        ...errors(409, 413, 415),
      },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const { messages, conversation, more } = c.req.valid('json');
      const results = await metrics.timeStore('restore', () =>
        store.restore(conversationId, messages as unknown as Message[], {
          ...(conversation === undefined ? {} : { conversation: conversation as unknown as Conversation }),
          ...(more === undefined ? {} : { more }),
        }),
      );
      return c.json({ results }, results.some((result) => !result.duplicate) ? 201 : 200);
    },
  );
}
