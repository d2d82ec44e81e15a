import { type CommandContext, withStore } from './context.js';

/** What `chatstore conversations` filters and pages by, as commander parses it. */
export interface ConversationsCommandOptions {
  channel?: string;
  participant?: string;
  type?: string;
  limit?: string;
  cursor?: string;
  includeDeleted?: boolean;
}

/**
 * `chatstore conversations`: one page of conversations, newest activity first, as JSON
 * (`{ conversations, next? }`): pass `next` back with `--cursor` for the following page.
 */
export async function conversations(context: CommandContext, options: ConversationsCommandOptions): Promise<void> {
  const page = await withStore(context, (store) =>
    store.listConversations({
      ...(options.channel === undefined ? {} : { channel: options.channel }),
      ...(options.participant === undefined ? {} : { participantId: options.participant }),
      ...(options.type === undefined ? {} : { type: options.type }),
      ...(options.limit === undefined ? {} : { limit: Number(options.limit) }),
      ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      includeDeleted: options.includeDeleted === true,
    }),
  );
  context.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
}
