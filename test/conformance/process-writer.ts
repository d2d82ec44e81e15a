/**
 * A writer in its own OS process, for the multi-process test of invariant 2. Spawned by
 * concurrency.test.ts as: process-writer.ts <backend> <location> <conversationId> <writer> <count> <shared>
 * It appends <count> messages of its own in order, and re-sends <shared> messages every writer sends
 * (racing duplicates), then prints the seqs it was given as JSON.
 */
import { ALL_BACKENDS } from './backends.js';

const [name, location, conversationId, writer, count, sharedCount] = process.argv.slice(2);
const entry = ALL_BACKENDS.find((candidate) => candidate.name === name);
if (entry?.processes === undefined || location === undefined || conversationId === undefined) {
  throw new Error(
    `usage: process-writer.ts <backend with processes> <location> <conversationId> <writer> <count> <shared>`,
  );
}
const store = await entry.processes.connect(location);
try {
  const own: number[] = [];
  const shared: { externalId: string; id: string; duplicate: boolean }[] = [];
  for (let i = 0; i < Number(count); i++) {
    const [result] = await store.append(conversationId, {
      role: 'user',
      content: `writer ${writer} message ${i}`,
      externalId: `w${writer}-${i}`,
    });
    own.push(result?.message.seq ?? -1);
    if (i < Number(sharedCount)) {
      const [resent] = await store.append(conversationId, {
        role: 'user',
        content: `shared ${i}`,
        externalId: `shared-${i}`,
      });
      if (resent !== undefined) {
        shared.push({ externalId: `shared-${i}`, id: resent.message.id, duplicate: resent.duplicate });
      }
    }
  }
  process.stdout.write(JSON.stringify({ own, shared }));
} finally {
  await store.close();
}
