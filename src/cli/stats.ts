import { type CommandContext, withStore } from './context.js';

/** `chatstore stats [--conversation id]`: counts as JSON. */
export async function stats(context: CommandContext, options: { conversation?: string }): Promise<void> {
  const result = await withStore(context, (store) => store.stats(options.conversation));
  context.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
