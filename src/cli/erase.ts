import { type CommandContext, withStore } from './context.js';

/**
 * `chatstore erase <subjectId> [--compact]`: GDPR erasure of one person (`eraseSubject`); prints the
 * receipt as JSON. With `--compact` the engine then rewrites its storage, so the erased bytes have
 * left its files when the command exits (docs/backends.md, "Erasure on disk").
 */
export async function erase(context: CommandContext, subjectId: string, options: { compact?: boolean }): Promise<void> {
  const receipt = await withStore(context, (store) =>
    store.eraseSubject(subjectId, { compact: options.compact === true }),
  );
  context.stdout.write(`${JSON.stringify(receipt, null, 2)}\n`);
}
