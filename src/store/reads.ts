/** ChatStore's message reads: by id, the newest, pages, a window around one, an LLM context, search. */
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ChatStoreError } from '../errors.js';
import type { ContextMessage, Message, Page, SearchPage } from '../model.js';
import { searchSnippet } from '../snippet.js';
import { searchTerms } from '../text.js';
import { invalid } from '../validate.js';
import { canonicalMaybe, canonicalMessage } from './canonical.js';
import { type StoreCore, timeRange } from './core.js';
import type { AroundOptions, ContextOptions, ListOptions, SearchOptions } from './options.js';

export const DEFAULT_RECENT = 20;
const DEFAULT_PAGE = 50;
const DEFAULT_AROUND = 5;
const DEFAULT_CONTEXT_MESSAGES = 50;
const DEFAULT_SEARCH = 20;
const MAX_SEARCH_TERMS = 32;

export async function messageById(core: StoreCore, id: string): Promise<Message | undefined> {
  return canonicalMaybe(await core.backend.getMessage(core.validate.id(id, 'id')));
}

export async function messageByExternalId(
  core: StoreCore,
  externalId: string,
  conversationId: string | undefined,
): Promise<Message | undefined> {
  const external = core.validate.id(externalId, 'externalId');
  const conversation = conversationId === undefined ? undefined : core.validate.id(conversationId, 'conversationId');
  return canonicalMaybe(await core.backend.getMessageByExternalId(external, conversation));
}

export async function recentMessages(core: StoreCore, conversationId: string, n: number): Promise<Message[]> {
  const id = core.validate.id(conversationId, 'conversationId');
  const limit = core.validate.limit(n, DEFAULT_RECENT, 'n');
  const newest = await core.backend.range(id, { order: 'desc', limit, includeDeleted: false });
  return newest.reverse().map(canonicalMessage);
}

export async function listMessages(core: StoreCore, conversationId: string, options: ListOptions): Promise<Page> {
  const { validate } = core;
  const id = validate.id(conversationId, 'conversationId');
  const limit = validate.limit(options.limit, DEFAULT_PAGE, 'limit');
  let order = options.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw invalid('order', "must be 'asc' or 'desc'");
  let afterSeq = options.after === undefined ? undefined : validate.seq(options.after, 'after');
  let beforeSeq = options.before === undefined ? undefined : validate.seq(options.before, 'before');
  if (options.cursor !== undefined) {
    const cursor = decodeCursor(validate.text(options.cursor, 'cursor'), 'page');
    if (cursor.conversationId !== id) throw invalid('cursor', 'belongs to another conversation');
    if (options.order !== undefined && options.order !== cursor.order)
      throw invalid('order', 'differs from the cursor');
    order = cursor.order;
    if (order === 'asc') afterSeq = Math.max(afterSeq ?? 0, cursor.seq);
    else beforeSeq = Math.min(beforeSeq ?? Number.MAX_SAFE_INTEGER, cursor.seq);
  }
  const rows = await core.backend.range(id, {
    order,
    limit: limit + 1,
    includeDeleted: options.includeDeleted === true,
    ...(afterSeq === undefined ? {} : { afterSeq }),
    ...(beforeSeq === undefined ? {} : { beforeSeq }),
    ...timeRange(core, options.from, options.to),
  });
  if (rows.length <= limit) return { messages: rows.map(canonicalMessage) };
  const messages = rows.slice(0, limit).map(canonicalMessage);
  const last = messages[messages.length - 1] as Message;
  return { messages, next: encodeCursor({ kind: 'page', conversationId: id, order, seq: last.seq }) };
}

export async function messagesAround(
  core: StoreCore,
  conversationId: string,
  seqOrId: number | string,
  options: AroundOptions,
): Promise<Message[]> {
  const { validate, limits, backend } = core;
  const id = validate.id(conversationId, 'conversationId');
  const before = options.before === undefined ? DEFAULT_AROUND : validate.seq(options.before, 'before');
  const after = options.after === undefined ? DEFAULT_AROUND : validate.seq(options.after, 'after');
  if (before > limits.maxPageSize || after > limits.maxPageSize) {
    throw invalid('before', `and after must be at most ${limits.maxPageSize}`);
  }
  const includeDeleted = options.includeDeleted === true;
  let seq: number;
  if (typeof seqOrId === 'number') {
    seq = validate.seq(seqOrId, 'seqOrId');
  } else {
    const anchor = await backend.getMessage(validate.id(seqOrId, 'seqOrId'));
    if (anchor === undefined || anchor.conversationId !== id) {
      throw new ChatStoreError('NOT_FOUND', `message ${seqOrId} not found in conversation ${id}`);
    }
    seq = anchor.seq;
  }
  const [older, newer] = await Promise.all([
    before === 0
      ? Promise.resolve([])
      : backend.range(id, { order: 'desc', beforeSeq: seq, limit: before, includeDeleted }),
    backend.range(id, { order: 'asc', afterSeq: seq - 1, limit: after + 1, includeDeleted }),
  ]);
  return [...older.reverse(), ...newer].map(canonicalMessage);
}

export async function llmContext(
  core: StoreCore,
  conversationId: string,
  options: ContextOptions,
): Promise<ContextMessage[]> {
  const id = core.validate.id(conversationId, 'conversationId');
  const maxMessages = core.validate.limit(options.maxMessages, DEFAULT_CONTEXT_MESSAGES, 'maxMessages');
  const maxTokens = options.maxTokens ?? Number.POSITIVE_INFINITY;
  if (typeof maxTokens !== 'number' || Number.isNaN(maxTokens) || maxTokens < 0) {
    throw invalid('maxTokens', 'must be a non-negative number');
  }
  const countTokens = options.countTokens ?? core.countTokens;
  const picked: ContextMessage[] = [];
  let tokens = 0;
  let beforeSeq: number | undefined;
  const pageSize = Math.min(maxMessages, 100);
  while (picked.length < maxMessages) {
    const rows = await core.backend.range(id, {
      order: 'desc',
      limit: pageSize,
      includeDeleted: false,
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
    });
    for (const message of rows) {
      if (message.content === '') continue;
      const entry: ContextMessage = { role: message.role, content: message.content };
      const cost = countTokens(entry);
      if (tokens + cost > maxTokens || picked.length >= maxMessages) return picked.reverse();
      tokens += cost;
      picked.push(entry);
    }
    if (rows.length < pageSize) break;
    beforeSeq = (rows[rows.length - 1] as Message).seq;
  }
  return picked.reverse();
}

export async function searchMessages(core: StoreCore, query: string, options: SearchOptions): Promise<SearchPage> {
  const { validate } = core;
  const terms = [...new Set(searchTerms(validate.text(query, 'query')))];
  if (terms.length === 0) throw invalid('query', 'must contain at least one word');
  if (terms.length > MAX_SEARCH_TERMS) throw invalid('query', `must contain at most ${MAX_SEARCH_TERMS} words`);
  const limit = validate.limit(options.limit, DEFAULT_SEARCH, 'limit');
  const after =
    options.cursor === undefined ? undefined : decodeCursor(validate.text(options.cursor, 'cursor'), 'search').position;
  const hits = await core.backend.search({
    terms,
    limit: limit + 1,
    ...(options.conversationId === undefined
      ? {}
      : { conversationId: validate.id(options.conversationId, 'conversationId') }),
    ...(options.senderId === undefined ? {} : { senderId: validate.id(options.senderId, 'senderId') }),
    ...timeRange(core, options.from, options.to),
    ...(after === undefined ? {} : { after }),
  });
  const page = hits.slice(0, limit).map((hit) => ({
    message: canonicalMessage(hit.message),
    snippet: searchSnippet(hit.message.content, terms),
    score: hit.score,
  }));
  if (hits.length <= limit) return { hits: page };
  const last = page[page.length - 1] as (typeof page)[number];
  return { hits: page, next: encodeCursor({ kind: 'search', position: { score: last.score, id: last.message.id } }) };
}
