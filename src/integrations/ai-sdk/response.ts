/**
 * Storing the assistant's answer of a UI message stream response once, whatever happens to the
 * stream. The SDK calls `toUIMessageStreamResponse`'s `onFinish` when the client stops reading
 * too, with the message as far as the client got: that message is stored and marked truncated.
 * When the `streamText` result is given, a second copy of the same UI message stream is read on
 * the server, where no client can leave; its message, complete, replaces the truncated one (an
 * `edit` of parts and content). A generation that itself stopped (an abort signal, an error) stays
 * stored as far as it got, marked.
 */
import type { UIMessage, UIMessageStreamOnFinishCallback, UIMessageStreamOptions } from 'ai';
import { ChatStoreError } from '../../errors.js';
import { newMessageId } from '../../ids.js';
import type { Message, NewConversation } from '../../model.js';
import type { ChatStore } from '../../store.js';
import { type Pending, storedUIMessage, syncUIMessages } from './messages.js';

/** What `persistResponse` needs of a `streamText` result (or an agent's): another copy of its UI message stream. */
export interface UIMessageStreamSource<M extends UIMessage = UIMessage> {
  toUIMessageStream(options: UIMessageStreamOptions<M>): ReadableStream<unknown>;
}

export interface PersistResponseOptions<M extends UIMessage = UIMessage> {
  /** The conversation so far, as handed to the model; its messages not stored yet are stored with the answer. */
  originalMessages?: M[];
  /** The `streamText` result: with it, an answer the client stopped reading is stored complete. */
  result?: UIMessageStreamSource<M>;
  /** The answer's id (default: a UUIDv7); the id of the last original message when the answer continues it. */
  generateMessageId?: () => string;
  /** Passed to both copies of the stream, so the stored message is the one the client saw. */
  messageMetadata?: UIMessageStreamOptions<M>['messageMetadata'];
  sendReasoning?: boolean;
  sendSources?: boolean;
  /** What the conversation is created with by its first message. */
  conversation?: NewConversation;
  /** Called after the answer the client received is stored, with the SDK's event. */
  onFinish?: UIMessageStreamOnFinishCallback<M>;
}

export interface PersistedResponse<M extends UIMessage = UIMessage> {
  /** For `toUIMessageStreamResponse(…)` (or `toUIMessageStream`, `pipeUIMessageStreamToResponse`). */
  streamOptions: UIMessageStreamOptions<M>;
  /**
   * The answer as stored for good: complete, or truncated when the generation itself stopped (or,
   * without `result`, when the client left). `NOT_FOUND` when the stream ended before anything of
   * the answer arrived. Hand it to `waitUntil` where the platform stops work once the response is sent.
   */
  stored: Promise<Message>;
}

type FinishEvent<M extends UIMessage> = Parameters<UIMessageStreamOnFinishCallback<M>>[0];

/**
 * Options for `toUIMessageStreamResponse` that store the answer (and the messages of
 * `originalMessages` not stored yet) in the conversation, once.
 * @example
 * const result = streamText({ model, messages: await convertToModelMessages(messages), abortSignal: request.signal });
 * const { streamOptions } = persistResponse(store, chatId, { originalMessages: messages, result });
 * return result.toUIMessageStreamResponse(streamOptions);
 */
export function persistResponse<M extends UIMessage = UIMessage>(
  store: ChatStore,
  conversationId: string,
  options: PersistResponseOptions<M> = {},
): PersistedResponse<M> {
  const answerId = (options.generateMessageId ?? newMessageId)();
  const generateMessageId = (): string => answerId;
  let complete = false;
  let latest: Message | undefined;
  let queue: Promise<void> = Promise.resolve();

  // One at a time, in arrival order: the first complete answer is the last write.
  const record = (event: FinishEvent<M>): Promise<void> => {
    // A failed write fails its own caller only; the next one still runs.
    queue = queue
      .catch(() => undefined)
      .then(async () => {
        if (complete) return;
        const truncated = stoppedEarly(event);
        const answer = event.responseMessage;
        // A step boundary alone is not an answer: nothing of it arrived.
        const keepAnswer = !truncated || answer.parts.some((part) => part.type !== 'step-start');
        const pending: Pending[] = [];
        for (const [index, message] of event.messages.entries()) {
          const isAnswer = index === event.messages.length - 1;
          if (isAnswer && !keepAnswer) continue;
          pending.push({
            draft: storedUIMessage(message, `messages[${index}]`, isAnswer && truncated),
            edit: isAnswer,
          });
        }
        const saved = await syncUIMessages(store, conversationId, pending, options.conversation);
        if (keepAnswer) latest = saved[saved.length - 1]?.message;
        complete = !truncated;
      });
    return queue;
  };

  const shared = {
    ...(options.originalMessages === undefined ? {} : { originalMessages: options.originalMessages }),
    generateMessageId,
    ...(options.messageMetadata === undefined ? {} : { messageMetadata: options.messageMetadata }),
    ...(options.sendReasoning === undefined ? {} : { sendReasoning: options.sendReasoning }),
    ...(options.sendSources === undefined ? {} : { sendSources: options.sendSources }),
  };
  let clientFinished!: () => void;
  const clientDone = new Promise<void>((resolve) => {
    clientFinished = resolve;
  });
  const streamOptions: UIMessageStreamOptions<M> = {
    ...shared,
    async onFinish(event) {
      try {
        await record(event);
      } finally {
        clientFinished();
      }
      await options.onFinish?.(event);
    },
  };

  const serverDone =
    options.result === undefined ? clientDone.then(() => queue) : readToTheEnd(options.result, shared, record);
  const stored = serverDone.then(() => {
    if (latest === undefined) {
      throw new ChatStoreError('NOT_FOUND', `no answer arrived to store in conversation ${conversationId}`);
    }
    return latest;
  });
  // Awaited by whoever wants it; never an unhandled rejection when nobody does.
  stored.catch(() => {});
  return { streamOptions, stored };
}

/** Reads a server-side copy of the UI message stream to its end and records its message. */
async function readToTheEnd<M extends UIMessage>(
  result: UIMessageStreamSource<M>,
  shared: UIMessageStreamOptions<M>,
  record: (event: FinishEvent<M>) => Promise<void>,
): Promise<void> {
  let finished: Promise<void> | undefined;
  const stream = result.toUIMessageStream({
    ...shared,
    onFinish: (event) => {
      finished = record(event);
      return finished;
    },
  });
  const reader = stream.getReader();
  while (!(await reader.read()).done) {
    // the chunks are the client's business; only the finished message is
  }
  await finished;
}

/** The stream ended before its finish: the client left, the generation was aborted or failed. */
function stoppedEarly(event: FinishEvent<UIMessage>): boolean {
  if (event.isAborted) return true;
  const status = event.outcome?.status ?? 'unknown';
  if (status === 'unknown') return event.finishReason === undefined;
  return status !== 'completed';
}
