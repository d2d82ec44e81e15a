/**
 * Crash recovery (invariants 2 and 7 in docs/ARCHITECTURE.md) on a PostgreSQL server of the test's own: 8 writers append,
 * the postmaster is killed with SIGKILL, the server is restarted. Calls in flight and calls made
 * while it is down fail with UNAVAILABLE (never another error, never a wrong answer); later calls
 * succeed on the same store, without reopening it; and every acknowledged message is stored,
 * exactly once, with the conversation's seqs dense.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ChatStoreError } from '../src/errors.js';
import type { Message } from '../src/model.js';
import { openStore } from '../src/open.js';
import type { ChatStore } from '../src/store.js';
import { type ThrowawayServer, throwawayServer } from './fixtures/pg-throwaway.js';

const WRITERS = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: ThrowawayServer;

beforeAll(async () => {
  server = await throwawayServer();
  await server.start();
}, 120_000);

afterAll(async () => {
  await server?.destroy();
});

describe('postgres after its server is killed', () => {
  test('in-flight calls fail with UNAVAILABLE, later calls succeed without reopening, nothing acknowledged is lost', async () => {
    const store: ChatStore = await openStore(`${server.url}?schema=chatstore_crash&poolSize=${WRITERS}`);
    try {
      let phase: 'before' | 'down' | 'after' | 'done' = 'before';
      const acknowledged: Message[] = [];
      const failures: unknown[] = [];
      const okAfterRestart = new Map<number, number>();

      const writer = async (w: number): Promise<void> => {
        for (let n = 0; phase !== 'done'; n++) {
          try {
            const [result] = await store.append('crash', {
              role: 'user',
              content: `writer ${w} message ${n}`,
              senderId: `w${w}`,
              externalId: `w${w}-${n}`,
            });
            acknowledged.push(result?.message as Message);
            if (phase === 'after') okAfterRestart.set(w, (okAfterRestart.get(w) ?? 0) + 1);
          } catch (error) {
            failures.push(error);
            await sleep(20);
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

      while (acknowledged.length < 400) await sleep(10);
      const beforeCrash = acknowledged.length;
      server.kill();
      phase = 'down';
      // Calls keep coming while the server is gone.
      await sleep(1500);
      const failedWhileDown = failures.length;
      await server.start();
      phase = 'after';
      const deadline = Date.now() + 60_000;
      while (
        Array.from({ length: WRITERS }, (_, w) => okAfterRestart.get(w) ?? 0).some((count) => count < 25) &&
        Date.now() < deadline
      ) {
        await sleep(20);
      }
      phase = 'done';
      await Promise.all(writers);

      expect(beforeCrash).toBeGreaterThanOrEqual(400);
      expect(failedWhileDown).toBeGreaterThan(0);
      for (const failure of failures) {
        expect(failure, String(failure)).toBeInstanceOf(ChatStoreError);
        expect((failure as ChatStoreError).code, (failure as Error).message).toBe('UNAVAILABLE');
      }
      for (let w = 0; w < WRITERS; w++) expect(okAfterRestart.get(w) ?? 0, `writer ${w}`).toBeGreaterThanOrEqual(25);

      // Every acknowledged message is stored as acknowledged; seqs are dense; nothing is there twice.
      const stored: Message[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list('crash', { limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
        stored.push(...page.messages);
        cursor = page.next;
      } while (cursor !== undefined);
      expect(stored.map((message) => message.seq)).toEqual(stored.map((_, index) => index + 1));
      expect(new Set(stored.map((message) => message.externalId)).size).toBe(stored.length);
      const byId = new Map(stored.map((message) => [message.id, message]));
      for (const message of acknowledged) expect(byId.get(message.id)).toStrictEqual(message);
      expect(await store.getConversation('crash')).toMatchObject({
        lastSeq: stored.length,
        messageCount: stored.length,
      });
    } finally {
      await store.close();
    }
  });
});
