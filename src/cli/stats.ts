import { type CommandContext, withStore } from './context.js';

/** `chatstore stats [--conversation id]`: counts as JSON, and the tiers' figures when the store has tiers. */
export async function stats(context: CommandContext, options: { conversation?: string }): Promise<void> {
  const result = await withStore(context, async (store) => {
    const counts = await store.stats(options.conversation);
    const tiers = store.tierStats();
    return tiers.length === 0 ? counts : { ...counts, tiers };
  });
  context.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
