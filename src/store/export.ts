/** ChatStore's export: conversation by conversation in seq order, page by page, with or without conversation records. */
import type { Message } from '../model.js';
import { canonicalConversation, canonicalMessage } from './canonical.js';
import { type StoreCore, timeRange } from './core.js';
import type { ExportFilter, ExportRecord } from './options.js';

export const EXPORT_PAGE = 500;

export async function* exportScan(
  core: StoreCore,
  filter: ExportFilter,
  withConversations: boolean,
): AsyncIterable<ExportRecord> {
  const { backend } = core;
  const range = timeRange(core, filter.from, filter.to);
  const includeDeleted = filter.includeDeleted === true;
  const conversationIds =
    filter.conversationId === undefined
      ? allConversationIds(core)
      : single(core.validate.id(filter.conversationId, 'conversationId'));
  const conversationLines = withConversations && range.from === undefined && range.to === undefined;
  for await (const conversationId of conversationIds) {
    if (conversationLines) {
      const conversation = await backend.getConversation(conversationId);
      if (conversation !== undefined && (includeDeleted || conversation.deletedAt === undefined)) {
        yield { conversation: canonicalConversation(conversation) };
      }
    }
    for await (const row of conversationRows(core, conversationId, { includeDeleted, ...range })) {
      yield canonicalMessage(row);
    }
  }
}

/** One conversation's messages as the engine stores them, in seq order, a page at a time. */
export async function* conversationRows(
  core: StoreCore,
  conversationId: string,
  filter: { includeDeleted: boolean; from?: string; to?: string },
): AsyncIterable<Message> {
  let afterSeq = 0;
  for (;;) {
    const rows = await core.backend.range(conversationId, { order: 'asc', afterSeq, limit: EXPORT_PAGE, ...filter });
    yield* rows;
    if (rows.length < EXPORT_PAGE) return;
    afterSeq = (rows[rows.length - 1] as Message).seq;
  }
}

/** Every conversation id in the store, ascending (UTF-8 bytes), a page at a time. */
export async function* allConversationIds(core: StoreCore): AsyncIterable<string> {
  let after: string | undefined;
  for (;;) {
    const ids = await core.backend.conversationIds(after, EXPORT_PAGE);
    yield* ids;
    if (ids.length < EXPORT_PAGE) return;
    after = ids[ids.length - 1];
  }
}

async function* single(id: string): AsyncIterable<string> {
  yield id;
}
