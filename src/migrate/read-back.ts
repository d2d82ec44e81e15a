/** What a verification and a rollback read back of the store: a conversation's messages, soft-deleted ones included. */
import type { Message } from '../model.js';
import type { ChatStore } from '../store.js';

const PAGE = 1000;

/** Every message of the conversation in seq order, soft-deleted ones included, a page of 1,000 at a time. */
export async function everyMessage(store: ChatStore, conversationId: string): Promise<Message[]> {
  const messages: Message[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(conversationId, {
      limit: PAGE,
      includeDeleted: true,
      ...(cursor === undefined ? {} : { cursor }),
    });
    messages.push(...page.messages);
    cursor = page.next;
  } while (cursor !== undefined);
  return messages;
}
