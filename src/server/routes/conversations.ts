/**
 * Conversations: list by activity or participant, create, get, update (metadata merged in the
 * engine), participants, soft or hard delete.
 */
import { ChatStoreError } from '../../errors.js';
import type { Conversation, ConversationPatch, NewConversation, NewParticipant } from '../../model.js';
import {
  AddParticipantsBody,
  ConversationPageSchema,
  ConversationParams,
  ConversationPatchBody,
  ConversationSchema,
  CreateConversationBody,
  DeletedSchema,
  HardDeleteQuery,
  ListConversationsQuery,
  ParticipantParams,
  ParticipantsSchema,
} from '../schemas.js';
import { type App, access, demandScope, errors, flag, json, jsonBody, type RouteDeps, route } from './route-kit.js';

const TAG = ['conversations'];

/** Registers the conversation routes and their participants' routes. */
export function registerConversationRoutes(app: App, deps: RouteDeps): void {
  registerConversationCrud(app, deps);
  registerParticipantRoutes(app, deps);
}

/** List, create, read, update and delete conversations. */
function registerConversationCrud(app: App, deps: RouteDeps): void {
  const { store, metrics, keyring } = deps;
  const read = access(keyring, 'read');
  const write = access(keyring, 'write');
  const mustExist = (conversationId: string) => existingConversation(deps, conversationId);

  app.openapi(
    route({
      ...read,
      method: 'get',
      path: '/v1/conversations',
      operationId: 'listConversations',
      tags: TAG,
      summary: 'List conversations',
      description:
        'Newest activity first, cursor-paginated; filter by `participantId` (a customer’s phone number, say) or `type`.',
      request: { query: ListConversationsQuery },
      responses: { 200: json(ConversationPageSchema, 'a page of conversations'), ...errors() },
    }),
    async (c) => {
      const { includeDeleted, ...query } = c.req.valid('query');
      metrics.reads.inc({ operation: 'listConversations' });
      const page = await metrics.timeStore('listConversations', () =>
        store.listConversations({ ...query, includeDeleted: flag(includeDeleted) }),
      );
      return c.json(page, 200);
    },
  );

  app.openapi(
    route({
      ...write,
      method: 'post',
      path: '/v1/conversations',
      operationId: 'createConversation',
      tags: TAG,
      summary: 'Create a conversation',
      description:
        'Before its first message (a group with its members, say). Appending to an unknown conversation also creates it.',
      request: { body: jsonBody(CreateConversationBody) },
      responses: { 201: json(ConversationSchema, 'created'), ...errors(409, 413, 415) },
    }),
    async (c) => {
      const { id, ...init } = c.req.valid('json');
      const conversation = await metrics.timeStore('createConversation', () =>
        store.createConversation(id, init as NewConversation),
      );
      c.header('Location', `/v1/conversations/${encodeURIComponent(conversation.id)}`);
      return c.json(conversation, 201);
    },
  );

  app.openapi(
    route({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}',
      operationId: 'getConversation',
      tags: TAG,
      summary: 'Get a conversation',
      request: { params: ConversationParams },
      responses: { 200: json(ConversationSchema, 'the conversation'), ...errors(404) },
    }),
    async (c) => c.json(await mustExist(c.req.valid('param').conversationId), 200),
  );

  app.openapi(
    route({
      ...write,
      method: 'patch',
      path: '/v1/conversations/{conversationId}',
      operationId: 'updateConversation',
      tags: TAG,
      summary: 'Update a conversation',
      description:
        'Changes `type` or `title` and merges `metadata` in the engine (JSON merge patch: `null` removes a key), so concurrent updates never overwrite each other.',
      request: { params: ConversationParams, body: jsonBody(ConversationPatchBody) },
      responses: { 200: json(ConversationSchema, 'the conversation after the update'), ...errors(404, 413, 415) },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const patch = c.req.valid('json') as ConversationPatch;
      const conversation = await metrics.timeStore('updateConversation', () =>
        store.updateConversation(conversationId, patch),
      );
      return c.json(conversation, 200);
    },
  );

  app.openapi(
    route({
      ...write,
      method: 'delete',
      path: '/v1/conversations/{conversationId}',
      operationId: 'deleteConversation',
      tags: TAG,
      summary: 'Delete a conversation',
      description:
        "Soft by default (hides it and its messages); `hard=true` removes it and its messages for good; `hard=true&compact=true` (admin scope) also rewrites the engine's storage.",
      request: { params: ConversationParams, query: HardDeleteQuery },
      responses: { 200: json(DeletedSchema, 'deleted'), ...errors(404) },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const query = c.req.valid('query');
      const hard = flag(query.hard);
      const compact = flag(query.compact);
      if (compact) demandScope(c, keyring, 'admin', 'compact=true');
      const deleted = await metrics.timeStore('deleteConversation', () =>
        store.deleteConversation(conversationId, { hard, compact }),
      );
      if (!deleted) throw new ChatStoreError('NOT_FOUND', `conversation ${conversationId} not found`);
      return c.json({ deleted: true as const, hard }, 200);
    },
  );
}

/** The participants of one conversation. */
function registerParticipantRoutes(app: App, deps: RouteDeps): void {
  const { store, metrics, keyring } = deps;
  const read = access(keyring, 'read');
  const write = access(keyring, 'write');
  const mustExist = (conversationId: string) => existingConversation(deps, conversationId);

  app.openapi(
    route({
      ...read,
      method: 'get',
      path: '/v1/conversations/{conversationId}/participants',
      operationId: 'listParticipants',
      tags: TAG,
      summary: 'List participants',
      request: { params: ConversationParams },
      responses: { 200: json(ParticipantsSchema, 'the participants'), ...errors(404) },
    }),
    async (c) => {
      const { participants } = await mustExist(c.req.valid('param').conversationId);
      return c.json({ participants }, 200);
    },
  );

  app.openapi(
    route({
      ...write,
      method: 'post',
      path: '/v1/conversations/{conversationId}/participants',
      operationId: 'addParticipants',
      tags: TAG,
      summary: 'Add participants',
      description: 'Adds those not yet present; existing entries stay as they are.',
      request: { params: ConversationParams, body: jsonBody(AddParticipantsBody) },
      responses: { 200: json(ConversationSchema, 'the conversation after the change'), ...errors(404, 413, 415) },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const { participants } = c.req.valid('json');
      const conversation = await metrics.timeStore('addParticipants', () =>
        store.addParticipants(conversationId, participants as NewParticipant[]),
      );
      return c.json(conversation, 200);
    },
  );

  app.openapi(
    route({
      ...write,
      method: 'delete',
      path: '/v1/conversations/{conversationId}/participants/{participantId}',
      operationId: 'removeParticipant',
      tags: TAG,
      summary: 'Remove a participant',
      request: { params: ParticipantParams },
      responses: { 200: json(ConversationSchema, 'the conversation after the change'), ...errors(404) },
    }),
    async (c) => {
      const { conversationId, participantId } = c.req.valid('param');
      const conversation = await metrics.timeStore('removeParticipant', () =>
        store.removeParticipant(conversationId, participantId),
      );
      return c.json(conversation, 200);
    },
  );
}

/** The conversation, read (and counted) as a route reads it; NOT_FOUND when it does not exist. */
async function existingConversation({ store, metrics }: RouteDeps, conversationId: string): Promise<Conversation> {
  metrics.reads.inc({ operation: 'getConversation' });
  const conversation = await metrics.timeStore('getConversation', () => store.getConversation(conversationId));
  if (conversation === undefined) throw new ChatStoreError('NOT_FOUND', `conversation ${conversationId} not found`);
  return conversation;
}
