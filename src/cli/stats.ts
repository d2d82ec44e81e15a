import { type CommandContext, withStore } from './context.js';

/** `chatstore stats [--conversation id]`: counts as JSON, with the tiers' and the archive's figures when the store has them. */
export async function stats(context: CommandContext, options: { conversation?: string }): Promise<void> {
  const result = await withStore(context, async (store) => {
    const counts = await store.stats(options.conversation);
    const tiers = store.tierStats();
    const archive = await store.archiveStats();
    return { ...counts, ...(tiers.length === 0 ? {} : { tiers }), ...(archive === undefined ? {} : { archive }) };
  });
  context.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
