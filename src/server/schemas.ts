/**
 * The request and response schemas of the HTTP API. The same objects validate requests (through
 * `@hono/zod-openapi`) and produce `/openapi.json`, so the document cannot drift from what the
 * server accepts. They check shape (types, enums, known fields); the store then enforces its limits
 * (sizes, id lengths, storable text) and answers with the same 400 envelope.
 */
import { z } from '@hono/zod-openapi';
import { DIRECTIONS, MESSAGE_STATUSES, PARTICIPANT_KINDS, ROLES } from '../model.js';

// ---------------------------------------------------------------- shared pieces

const Time = z
  .union([z.string(), z.number()])
  .openapi({ description: 'ISO-8601 time with a zone, or epoch milliseconds', example: '2026-11-22T10:00:00Z' });
const StoredTime = z.string().openapi({ description: 'ISO-8601 UTC time', example: '2026-11-22T10:00:00.000Z' });
const JsonObject = z.record(z.string(), z.unknown()).openapi({ description: 'any JSON object' });
const Flag = z.enum(['true', 'false']);
export const PageSize = z.coerce.number().int().min(1);
const Seq = z.coerce.number().int().min(0);

const pathId = (name: string, description: string, example: string) =>
  z
    .string()
    .min(1)
    .openapi({ param: { name, in: 'path' }, description, example });

/** `{conversationId}` */
export const ConversationParams = z.object({
  conversationId: pathId('conversationId', 'the caller’s conversation id (phone number, chat id, …)', '+15550001'),
});

/** `{messageId}` */
export const MessageParams = z.object({
  messageId: pathId('messageId', 'a message id', '0190f5c2-7a1b-7cc3-9d2e-3b4c5d6e7f80'),
});

export const HardDeleteQuery = z.object({
  hard: Flag.optional().openapi({ description: '`true` removes it from the engine and search index for good' }),
  compact: Flag.optional().openapi({
    description:
      'With `hard=true`, needs the admin scope: `true` then rewrites the engine\'s storage so the removed bytes have left its files when the response comes (PostgreSQL and MySQL rewrite whole tables under a lock; see docs/backends.md, "Erasure on disk")',
  }),
});

// ---------------------------------------------------------------- messages in

const Media = z
  .strictObject({
    url: z.string(),
    type: z.string().openapi({ example: 'image' }),
    mimeType: z.string().optional(),
    size: z.number().int().min(0).optional(),
    sha256: z.string().optional(),
    providerId: z.string().optional(),
  })
  .openapi('Media', { description: 'an attachment by reference; never inline bytes' });

const MessageError = z.strictObject({ code: z.string().optional(), message: z.string() }).openapi('MessageError');

const Command = z.strictObject({ name: z.string(), admin: z.boolean() }).openapi('Command');

const StatusTimes = z.strictObject({
  queued: Time.optional(),
  sent: Time.optional(),
  delivered: Time.optional(),
  read: Time.optional(),
  failed: Time.optional(),
});

/** One message to append (docs/api.md). */
export const NewMessageSchema = z
  .strictObject({
    id: z
      .string()
      .optional()
      .openapi({ description: 'your id; default: a time-sortable UUIDv7 (or the Idempotency-Key)' }),
    externalId: z.string().optional().openapi({ description: 'the provider’s message id', example: 'wamid.HBgM' }),
    role: z.enum(ROLES).optional().openapi({ description: 'required unless direction is given' }),
    direction: z.enum(DIRECTIONS).optional(),
    senderId: z.string().optional(),
    recipientId: z.string().optional(),
    content: z.string().optional().openapi({ example: 'Hi! Where is my order?' }),
    parts: z.array(z.unknown()).optional().openapi({ description: 'structured AI content, stored losslessly' }),
    media: z.array(Media).optional(),
    status: z.enum(MESSAGE_STATUSES).optional(),
    statusAt: StatusTimes.optional(),
    error: MessageError.optional(),
    replyTo: z.string().optional(),
    command: Command.nullable().optional().openapi({ description: '`null` turns command detection off' }),
    metadata: JsonObject.optional(),
    createdAt: Time.optional(),
  })
  .openapi('NewMessage');

const NewParticipant = z
  .strictObject({ id: z.string(), kind: z.enum(PARTICIPANT_KINDS).optional(), name: z.string().optional() })
  .openapi('NewParticipant');

const NewConversationAttributes = z.strictObject({
  type: z.string().optional().openapi({ example: 'private' }),
  title: z.string().optional(),
  channel: z.string().optional().openapi({
    description: 'where it lives: a lowercase token such as whatsapp, sms, telegram, web',
    example: 'whatsapp',
  }),
  metadata: JsonObject.optional(),
  participants: z.array(NewParticipant).optional(),
});

export const AppendBatchSchema = z
  .strictObject({
    messages: z.array(NewMessageSchema),
    expectedLastSeq: z
      .number()
      .int()
      .min(0)
      .optional()
      .openapi({ description: 'CONFLICT unless the conversation is at this seq' }),
    conversation: NewConversationAttributes.optional().openapi({
      description: 'attributes if this call creates the conversation',
    }),
  })
  .openapi('AppendBatch');

/** A single message, or a batch with options. */
export const AppendBody = z.union([AppendBatchSchema, NewMessageSchema]);

export const AppendQuery = z.object({
  expectedLastSeq: Seq.optional().openapi({ description: 'CONFLICT unless the conversation is at this seq' }),
});

export const AppendHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional()
    .openapi({
      description:
        'becomes the message id when the body has none (a batch: `<key>:<index>`); a retry with the same key and the same payload returns the stored message with `duplicate: true`; another payload under a used key is 422 CONFLICT and stores nothing',
      example: 'evt_01HZX3',
    }),
});

export const EditBody = z
  .strictObject({
    content: z.string().optional().openapi({ description: 'the new text; left as it is when absent' }),
    parts: z.array(z.unknown()).optional().openapi({
      description:
        'the new structured AI content, replacing the stored parts whole; `content` is not derived from it: send both when the text changed',
    }),
    metadata: JsonObject.optional().openapi({ description: 'a JSON merge patch (RFC 7396): `null` removes a key' }),
  })
  .openapi('MessageEdit');

export const StatusBody = z
  .strictObject({
    status: z.enum(MESSAGE_STATUSES),
    at: Time.optional().openapi({ description: 'when it happened at the provider; default: now' }),
    error: MessageError.optional(),
    conversationId: z.string().optional().openapi({ description: 'narrows an external-id lookup to one conversation' }),
  })
  .openapi('StatusUpdate');

/** Records as `GET /v1/export` writes them; the store checks each field and names it in a 400. */
export const RestoreBody = z
  .strictObject({
    messages: z
      .array(JsonObject)
      .openapi({ description: 'messages as the export wrote them (`Message`), seqs increasing' }),
    conversation: JsonObject.optional().openapi({ description: 'the export’s conversation record (`Conversation`)' }),
    more: z.boolean().optional().openapi({ description: 'more messages of this conversation follow in later calls' }),
  })
  .openapi('RestoreRequest');

// ---------------------------------------------------------------- reads

export const ListQuery = z.object({
  before: Seq.optional().openapi({ description: 'only seqs below this one' }),
  after: Seq.optional().openapi({ description: 'only seqs above this one' }),
  cursor: z.string().optional().openapi({ description: 'the `next` of the previous page' }),
  limit: PageSize.optional().openapi({ description: 'default 50' }),
  order: z.enum(['asc', 'desc']).optional(),
  from: z.string().optional().openapi({ description: 'created at or after (ISO-8601)' }),
  to: z.string().optional().openapi({ description: 'created before (ISO-8601)' }),
  includeDeleted: Flag.optional(),
});

export const RecentQuery = z.object({ n: PageSize.optional().openapi({ description: 'how many; default 20' }) });

export const AroundQuery = z.object({
  seq: Seq.optional().openapi({ description: 'the anchor by seq (give this or messageId)' }),
  messageId: z.string().optional().openapi({ description: 'the anchor by message id (give this or seq)' }),
  before: Seq.optional().openapi({ description: 'messages before the anchor; default 5' }),
  after: Seq.optional().openapi({ description: 'messages after the anchor; default 5' }),
  includeDeleted: Flag.optional(),
});

export const ContextQuery = z.object({
  maxMessages: PageSize.optional().openapi({ description: 'default 50' }),
  maxTokens: z.coerce.number().min(0).optional().openapi({ description: 'token budget (about 4 characters a token)' }),
});

export const ExternalIdParams = z.object({
  externalId: pathId('externalId', 'the provider’s message id', 'wamid.HBgM'),
});

export const ExternalIdQuery = z.object({
  conversationId: z.string().optional().openapi({ description: 'only this conversation' }),
});

export const SearchQuery = z.object({
  q: z.string().min(1).openapi({ description: 'words that must all match', example: 'refund order' }),
  conversationId: z.string().optional(),
  senderId: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  limit: PageSize.optional().openapi({ description: 'default 20' }),
  cursor: z.string().optional(),
});

export const StatsQuery = z.object({ conversationId: z.string().optional() });

export const ExportQuery = z.object({
  conversationId: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  includeDeleted: Flag.optional(),
});

// ---------------------------------------------------------------- conversations in

export const ListConversationsQuery = z.object({
  participantId: z.string().optional().openapi({ description: 'only conversations with this participant' }),
  type: z.string().optional(),
  channel: z.string().optional().openapi({ description: 'only conversations on this channel', example: 'whatsapp' }),
  limit: PageSize.optional().openapi({ description: 'default 20' }),
  cursor: z.string().optional(),
  includeDeleted: Flag.optional(),
});

export const CreateConversationBody = NewConversationAttributes.extend({ id: z.string() }).openapi('NewConversation');

export const ConversationPatchBody = z
  .strictObject({
    type: z.string().optional(),
    title: z.string().nullable().optional(),
    channel: z.string().nullable().optional().openapi({ description: '`null` removes it' }),
    metadata: JsonObject.optional().openapi({ description: 'a JSON merge patch (RFC 7396): `null` removes a key' }),
  })
  .openapi('ConversationPatch');

export const AddParticipantsBody = z.strictObject({ participants: z.array(NewParticipant) });

export const ParticipantParams = z.object({
  conversationId: ConversationParams.shape.conversationId,
  participantId: pathId('participantId', 'a participant id', '+15550002'),
});

/** `{subjectId}` */
export const SubjectParams = z.object({
  subjectId: pathId('subjectId', 'the person: a participant id such as a phone number', '+15550001'),
});

export const ErasureBody = z.strictObject({ subjectId: z.string().openapi({ example: '+15550001' }) });

export const ErasureQuery = z.object({
  compact: Flag.optional().openapi({
    description:
      '`true`: once the erasure commits, rewrite the engine\'s storage so the erased bytes have left its files when the response comes; the receipt says `compaction`. Costly: PostgreSQL and MySQL rewrite whole tables under a lock (docs/backends.md, "Erasure on disk")',
  }),
});

// ---------------------------------------------------------------- out

/** A stored message. */
export const MessageSchema = z
  .object({
    id: z.string(),
    conversationId: z.string(),
    seq: z.number().int(),
    externalId: z.string().optional(),
    role: z.enum(ROLES),
    direction: z.enum(DIRECTIONS),
    senderId: z.string().optional(),
    recipientId: z.string().optional(),
    content: z.string(),
    parts: z.array(z.unknown()).optional(),
    media: z.array(Media).optional(),
    status: z.enum(MESSAGE_STATUSES).optional(),
    statusAt: z
      .object({
        queued: StoredTime.optional(),
        sent: StoredTime.optional(),
        delivered: StoredTime.optional(),
        read: StoredTime.optional(),
        failed: StoredTime.optional(),
      })
      .optional(),
    error: MessageError.optional(),
    replyTo: z.string().optional(),
    command: Command.optional(),
    metadata: JsonObject.optional(),
    createdAt: StoredTime,
    editedAt: StoredTime.optional(),
    deletedAt: StoredTime.optional(),
  })
  .openapi('Message');

export const Participant = z
  .object({ id: z.string(), kind: z.enum(PARTICIPANT_KINDS), name: z.string().optional(), joinedAt: StoredTime })
  .openapi('Participant');

export const ConversationSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    title: z.string().optional(),
    channel: z.string().optional(),
    participants: z.array(Participant),
    metadata: JsonObject,
    createdAt: StoredTime,
    updatedAt: StoredTime,
    lastSeq: z.number().int(),
    messageCount: z.number().int(),
    lastMessageAt: StoredTime.optional(),
    deletedAt: StoredTime.optional(),
  })
  .openapi('Conversation');

export const AppendResultSchema = z.object({ message: MessageSchema, duplicate: z.boolean() }).openapi('AppendResult', {
  description: '`duplicate: true` when the message was stored already (same id or externalId)',
});

export const AppendResponse = z.union([z.object({ results: z.array(AppendResultSchema) }), AppendResultSchema]);

export const MessagePageSchema = z
  .object({
    messages: z.array(MessageSchema),
    next: z.string().optional().openapi({ description: 'cursor of the next page' }),
  })
  .openapi('MessagePage');

export const MessagesSchema = z.object({ messages: z.array(MessageSchema) }).openapi('Messages');

export const ContextSchema = z
  .object({ messages: z.array(z.object({ role: z.enum(ROLES), content: z.string() })) })
  .openapi('ContextWindow');

export const ConversationPageSchema = z
  .object({ conversations: z.array(ConversationSchema), next: z.string().optional() })
  .openapi('ConversationPage');

export const ParticipantsSchema = z.object({ participants: z.array(Participant) });

export const SearchPageSchema = z
  .object({
    hits: z.array(
      z.object({
        message: MessageSchema,
        snippet: z.string().openapi({
          description: 'safe HTML: the text is escaped and the matches are wrapped in <mark>…</mark>, the only markup',
        }),
        score: z.number(),
      }),
    ),
    next: z.string().optional(),
  })
  .openapi('SearchPage');

export const RestoreResponse = z.object({ results: z.array(AppendResultSchema) });

export const StatsSchema = z
  .object({
    total: z.number().int(),
    incoming: z.number().int(),
    outgoing: z.number().int(),
    withMedia: z.number().int(),
    commands: z.number().int(),
    adminCommands: z.number().int(),
    failed: z.number().int(),
    deleted: z.number().int(),
    byRole: z.record(z.enum(ROLES), z.number().int()),
    conversations: z.number().int(),
    byChannel: z.record(z.string(), z.object({ conversations: z.number().int(), messages: z.number().int() })).openapi({
      description: 'per channel: its conversations and their messages, deleted ones left out',
      example: { whatsapp: { conversations: 75, messages: 1840 } },
    }),
  })
  .openapi('Stats');

export const DeletedSchema = z.object({ deleted: z.literal(true), hard: z.boolean() });

export const ErasureReceiptSchema = z
  .object({
    subjectId: z.string(),
    messagesDeleted: z.number().int(),
    conversationsDeleted: z.array(z.string()),
    participantEntriesRemoved: z.number().int(),
    archiveFilesRewritten: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'archive files rewritten without the subject (docs/archive.md); absent when none was' }),
    erasedAt: StoredTime,
    compaction: z.enum(['done', 'not-needed']).optional().openapi({
      description:
        'Only with `compact=true`: `done` when the engine rewrote its storage after the erasure; `not-needed` when it keeps no erased bytes (memory, SQLite)',
    }),
  })
  .openapi('ErasureReceipt');

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({
        description:
          'INVALID_ARGUMENT, NOT_FOUND, CONFLICT, PAYLOAD_TOO_LARGE, UNAVAILABLE, MISSING_DRIVER, UNSUPPORTED, REQUEST_ABORTED, UNAUTHENTICATED, PERMISSION_DENIED, UNSUPPORTED_MEDIA_TYPE or INTERNAL',
        example: 'INVALID_ARGUMENT',
      }),
      message: z.string(),
      path: z.string().optional().openapi({
        description: 'the failing field (or parameter, or header such as `idempotency-key`)',
        example: 'messages[2].content',
      }),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      requestId: z.string(),
    }),
  })
  .openapi('Error');
