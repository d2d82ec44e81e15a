/**
 * The two Durable Object bindings a chatstore Worker declares (see `wrangler.toml` in
 * docs/cloudflare.md), and the one place that says which object holds what: a conversation's
 * object is named by the conversation's id, the directory is one object.
 */
import type { DurableObjectNamespace, DurableObjectStub } from './platform.js';

export interface ChatStoreBindings {
  /** `ConversationObject`: one per conversation, named by its id. */
  CHATSTORE_CONVERSATIONS: DurableObjectNamespace;
  /** `DirectoryObject`: the one object that indexes every conversation. */
  CHATSTORE_DIRECTORY: DurableObjectNamespace;
}

/** The object that owns conversation `id`. */
export function conversationObject(bindings: ChatStoreBindings, id: string): DurableObjectStub {
  const namespace = bindings.CHATSTORE_CONVERSATIONS;
  return namespace.get(namespace.idFromName(id));
}

/** The directory object. */
export function directoryObject(bindings: ChatStoreBindings): DurableObjectStub {
  const namespace = bindings.CHATSTORE_DIRECTORY;
  return namespace.get(namespace.idFromName('directory'));
}
