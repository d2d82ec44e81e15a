/**
 * `chatstore/ai-sdk`: the Vercel AI SDK's `UIMessage`s (`ai` 6.x, an optional peer dependency)
 * kept in a chatstore conversation. `loadUIMessages` gives the newest as `UIMessage[]`,
 * `saveUIMessages` stores a list idempotently (new ones appended, changed ones edited), and
 * `persistResponse` gives `toUIMessageStreamResponse` the options that store the answer once, even
 * when the client leaves mid-stream.
 *
 * Messages round-trip losslessly: the `UIMessage` id is the external id, the role is the role (the
 * store derives the direction), every part is kept as it is in `parts` (its text parts joined are the
 * `content`, so search and token budgets see the text), and the `UIMessage`'s `metadata` is kept in
 * `metadata.aiSdk.metadata`; an answer whose stream stopped early carries `metadata.aiSdk.truncated`.
 * @example
 * const messages = [...(await loadUIMessages(store, chatId)), message];
 * const result = streamText({ model, messages: await convertToModelMessages(messages) });
 * return result.toUIMessageStreamResponse(persistResponse(store, chatId, { originalMessages: messages, result }).streamOptions);
 */
export {
  type AiSdkMetadata,
  isTruncated,
  type LoadUIMessagesOptions,
  loadUIMessages,
  type SavedUIMessage,
  type SaveUIMessagesOptions,
  type StoredUIMessage,
  saveUIMessages,
  storedUIMessage,
  uiMessage,
} from './messages.js';
export {
  type PersistedResponse,
  type PersistResponseOptions,
  persistResponse,
  type UIMessageStreamSource,
} from './response.js';
