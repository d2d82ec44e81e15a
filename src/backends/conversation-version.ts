/** The check of a conditional hard delete (`ConversationDeletion.ifUnchanged`), the same for every engine. */
import type { ConversationVersion } from '../backend.js';

/** True when `conversation` is still at `version` (`ConversationDeletion.ifUnchanged`). */
export function atVersion(conversation: ConversationVersion, version: ConversationVersion | undefined): boolean {
  return (
    version === undefined ||
    (conversation.lastSeq === version.lastSeq &&
      conversation.messageCount === version.messageCount &&
      conversation.updatedAt === version.updatedAt)
  );
}
