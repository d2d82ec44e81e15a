/** Store-wide routes: full-text search, counts, the JSONL export streams (the store's, one person's), GDPR erasure. */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { redact } from '../../errors.js';
import type { ServerEnv } from '../env.js';
import type { RequestLogger } from '../logger.js';
import {
  ErasureBody,
  ErasureQuery,
  ErasureReceiptSchema,
  ExportQuery,
  SearchPageSchema,
  SearchQuery,
  StatsQuery,
  StatsSchema,
  SubjectParams,
} from '../schemas.js';
import { type App, access, errors, flag, json, jsonBody, type RouteDeps, route } from './route-kit.js';

const LINES_PER_CHUNK = 200;

export function registerStoreRoutes(app: App, deps: RouteDeps): void {
  const { store, metrics, keyring, logger } = deps;

  app.openapi(
    route({
      ...access(keyring, 'read'),
      method: 'get',
      path: '/v1/search',
      operationId: 'search',
      tags: ['search'],
      summary: 'Full-text search',
      description:
        'Every word of `q` must match; deleted messages never match. Hits carry a snippet and the message (with its `seq`, for `around`).',
      request: { query: SearchQuery },
      responses: { 200: json(SearchPageSchema, 'best hits first'), ...errors() },
    }),
    async (c) => {
      const { q, ...options } = c.req.valid('query');
      metrics.reads.inc({ operation: 'search' });
      const page = await metrics.timeStore('search', () => store.search(q, options));
      return c.json(page, 200);
    },
  );

  app.openapi(
    route({
      ...access(keyring, 'read'),
      method: 'get',
      path: '/v1/stats',
      operationId: 'stats',
      tags: ['stats'],
      summary: 'Message counts',
      description: 'For the whole store, or one conversation with `conversationId`.',
      request: { query: StatsQuery },
      responses: { 200: json(StatsSchema, 'the counts'), ...errors() },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('query');
      const stats = await metrics.timeStore('stats', () => store.stats(conversationId));
      return c.json(stats, 200);
    },
  );

  app.openapi(
    route({
      ...access(keyring, 'read'),
      method: 'get',
      path: '/v1/export',
      operationId: 'export',
      tags: ['export'],
      summary: 'Export conversations and messages as JSON Lines',
      description:
        'Streams one JSON object per line (`application/x-ndjson`), in constant memory, conversation by conversation: first `{"conversation": {…}}` (the conversation as `GET /v1/conversations/{id}` returns it; left out with `from` or `to`, and for a soft-deleted conversation without `includeDeleted`), then its messages in seq order, each as reads return it. A reader that wants messages only skips the lines with a `conversation` key. `chatstore import` restores these lines exactly (same seqs, times, statuses, deletes).',
      request: { query: ExportQuery },
      responses: {
        200: {
          description: 'one JSON object per line: a conversation record, then its messages',
          content: {
            'application/x-ndjson': {
              schema: z
                .string()
                .openapi({ example: '{"conversation":{"id":"c1","type":"private",…}}\n{"id":"…","seq":1,…}\n' }),
            },
          },
        },
        ...errors(),
      },
    }),
    async (c) => {
      const { includeDeleted, ...filter } = c.req.valid('query');
      metrics.reads.inc({ operation: 'export' });
      return ndjson(c, logger, store.exportRecords({ ...filter, includeDeleted: flag(includeDeleted) }));
    },
  );

  app.openapi(
    route({
      ...access(keyring, 'admin'),
      operationId: 'exportSubject',
      method: 'get',
      path: '/v1/subjects/{subjectId}/export',
      tags: ['erasure'],
      summary: 'Export everything stored about a person (GDPR access)',
      description:
        'The mirror of `POST /v1/erasures`: what erasing this subject would remove, streamed as JSON Lines (`application/x-ndjson`) in constant memory. First `{"subject": {"id", "exportedAt"}}`; then, in conversation id order, each conversation holding anything of theirs as `{"conversation": {…}}` followed by its messages concerning them in seq order, soft-deleted and archived ones included. The conversation whose id is theirs comes whole (as `GET /v1/conversations/{id}` returns it) with all its messages; any other as `{ id, type, title?, channel?, participants, createdAt, deletedAt? }` with only their own participant entry, and only the messages they sent or received. Admin scope, as erasure: it gathers one person\'s data from every conversation.',
      request: { params: SubjectParams },
      responses: {
        200: {
          description: 'one JSON object per line: the subject, then per conversation its record and their messages',
          content: {
            'application/x-ndjson': {
              schema: z.string().openapi({
                example:
                  '{"subject":{"id":"+15550001","exportedAt":"…"}}\n{"conversation":{"id":"+15550001",…}}\n{"id":"…","seq":1,…}\n',
              }),
            },
          },
        },
        ...errors(),
      },
    }),
    async (c) => {
      const { subjectId } = c.req.valid('param');
      metrics.reads.inc({ operation: 'exportSubject' });
      return ndjson(c, logger, store.exportSubject(subjectId));
    },
  );

  app.openapi(
    route({
      ...access(keyring, 'admin'),
      method: 'post',
      path: '/v1/erasures',
      operationId: 'eraseSubject',
      tags: ['erasure'],
      summary: 'Erase a person (GDPR)',
      description:
        'Hard-deletes every message the subject sent or received, removes them from every participant list and deletes conversations named by their id. Returns a receipt. With `compact=true` the engine then rewrites its storage, so the erased bytes have left its files when the response comes.',
      request: { query: ErasureQuery, body: jsonBody(ErasureBody) },
      responses: { 200: json(ErasureReceiptSchema, 'what was removed'), ...errors(415) },
    }),
    async (c) => {
      const { subjectId } = c.req.valid('json');
      const compact = flag(c.req.valid('query').compact);
      const receipt = await metrics.timeStore('eraseSubject', () => store.eraseSubject(subjectId, { compact }));
      return c.json(receipt, 200);
    },
  );
}

/**
 * Streams records as JSON Lines, a chunk of lines at a time, pulled as the client reads. The first
 * record is read before the response starts, so bad input or an unreachable engine is still a
 * proper error response (400, 503) rather than a broken stream.
 */
async function ndjson(c: Context<ServerEnv>, logger: RequestLogger, source: AsyncIterable<unknown>): Promise<never> {
  const records = source[Symbol.asyncIterator]();
  let pending: IteratorResult<unknown> | undefined = await records.next();
  const requestId = c.get('requestId');
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        let chunk = '';
        for (let lines = 0; lines < LINES_PER_CHUNK; lines++) {
          const next = pending ?? (await records.next());
          pending = undefined;
          if (next.done === true) {
            if (chunk !== '') controller.enqueue(encoder.encode(chunk));
            controller.close();
            return;
          }
          chunk += `${JSON.stringify(next.value)}\n`;
        }
        controller.enqueue(encoder.encode(chunk));
      } catch (error) {
        logger.error(
          { requestId, err: { message: redact(error instanceof Error ? error.message : String(error)) } },
          'export stream failed',
        );
        controller.error(error);
      }
    },
    async cancel() {
      await records.return?.();
    },
  });
  // The typed-response helpers know JSON and text only; NDJSON is a plain body.
  return c.body(body, 200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' }) as never;
}
