import { type CommandContext, withStore } from './context.js';

/**
 * `chatstore compact`: rewrites the engine's storage so that the bytes of data removed earlier (hard
 * deletes, erasures without `--compact`) leave its files now (`ChatStore.compact`); prints what was
 * rewritten, what was skipped and how long it took, as JSON.
 */
export async function compact(context: CommandContext): Promise<void> {
  const report = await withStore(context, (store) => store.compact());
  context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
