/**
 * Redis Cluster for real (3 masters + 3 replicas of Debian's redis-server, AOF everysec): a master
 * is killed with SIGKILL while 8 writers append, a replica takes over, writes resume, and the test
 * reports how many acknowledged appends survived. Redis replicates asynchronously, so a failover
 * may lose writes the old master acknowledged: the figure is printed, not asserted to be zero.
 *
 * This cluster (ports 7100–7105) is its own: killing a master of the shared conformance cluster
 * would break the suites running beside this file. The conformance suite runs against the cluster
 * on 7000–7005 (`CHATSTORE_BACKENDS=redis-cluster npx vitest run test/conformance`).
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hashTag } from '../src/backends/redis/keys.js';
import { isChatStoreError } from '../src/errors.js';
import type { Message } from '../src/model.js';
import { openStore } from '../src/open.js';
import type { ChatStore } from '../src/store.js';
import {
  cli,
  clusterNodes,
  FAILOVER_BASE_PORT,
  killNode,
  masterPorts,
  type RedisCluster,
  startCluster,
  stopCluster,
} from './fixtures/redis-cluster.js';

const WRITERS = 8;
const BEFORE_KILL_MS = 3_000;
const AFTER_RESUME_MS = 3_000;
const GIVE_UP_MS = 45_000;

let cluster: RedisCluster;
let admin: Cluster;

beforeAll(async () => {
  cluster = await startCluster(FAILOVER_BASE_PORT);
  admin = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
}, 120_000);

afterAll(async () => {
  admin?.disconnect();
  await stopCluster(FAILOVER_BASE_PORT);
});

/** Conversation ids whose keys live on the master at `port`, one per writer. */
async function conversationsOn(port: number): Promise<string[]> {
  const owner = (await clusterNodes(port)).find((node) => node.port === port);
  const ranges = (owner?.slots ?? []).map((range) => range.split('-').map(Number) as [number, number?]);
  const inRange = (slot: number) => ranges.some(([from, to]) => slot >= from && slot <= (to ?? from));
  const ids: string[] = [];
  for (let n = 0; ids.length < WRITERS; n++) {
    const id = `+1555${String(n).padStart(7, '0')}`;
    const slot = (await admin.call('CLUSTER', 'KEYSLOT', hashTag(id))) as number;
    if (inRange(slot)) ids.push(id);
  }
  return ids;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Acknowledged {
  conversationId: string;
  message: Message;
  at: number;
}

describe('redis cluster failover', () => {
  test('a master killed during appends: a replica takes over, writes resume, lost acknowledged writes are counted', async () => {
    const [victim] = await masterPorts(FAILOVER_BASE_PORT);
    expect(victim).toBeDefined();
    const conversations = await conversationsOn(victim as number);
    const store: ChatStore = await openStore(
      `redis+cluster://${cluster.nodes.join(',')}?keyPrefix=${encodeURIComponent('chatstore-failover:')}`,
    );

    const acknowledged: Acknowledged[] = [];
    const failures: { at: number; code: string }[] = [];
    let killedAt = Number.POSITIVE_INFINITY;
    let stopAt = Number.POSITIVE_INFINITY;
    const startedAt = Date.now();

    const writer = async (w: number): Promise<void> => {
      const conversationId = conversations[w] as string;
      for (let n = 0; Date.now() < stopAt && Date.now() - startedAt < GIVE_UP_MS; ) {
        try {
          // The same externalId on a retry: if a failed call did commit, the retry is a duplicate.
          const [result] = await store.append(conversationId, {
            role: 'user',
            content: `writer ${w} message ${n}`,
            externalId: `w${w}-${n}`,
            senderId: `writer-${w}`,
          });
          acknowledged.push({ conversationId, message: result?.message as Message, at: Date.now() });
          n++;
        } catch (error) {
          if (!isChatStoreError(error)) throw error;
          failures.push({ at: Date.now(), code: error.code });
          await sleep(50);
        }
      }
    };

    const running = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    await sleep(BEFORE_KILL_MS);
    killNode(cluster, victim as number);
    killedAt = Date.now();
    const ackedBeforeKill = acknowledged.length;

    // A replica takes the killed master's slots; then every writer must be acknowledged again.
    const survivor = cluster.basePort === victim ? cluster.basePort + 1 : cluster.basePort;
    const deadline = killedAt + GIVE_UP_MS;
    let promotedAt: number | undefined;
    while (promotedAt === undefined && Date.now() < deadline) {
      const masters = await masterPorts(survivor).catch((): number[] => []);
      const state = await cli(survivor, 'cluster', 'info').catch(() => '');
      if (masters.length === 3 && !masters.includes(victim as number) && state.includes('cluster_state:ok')) {
        promotedAt = Date.now();
      } else {
        await sleep(100);
      }
    }
    const resumedBy = (w: number) =>
      acknowledged.some((a) => a.conversationId === conversations[w] && promotedAt !== undefined && a.at > promotedAt);
    while (Date.now() < deadline && !Array.from({ length: WRITERS }, (_, w) => resumedBy(w)).every(Boolean)) {
      await sleep(100);
    }
    await sleep(AFTER_RESUME_MS);
    stopAt = Date.now();
    await running;

    const afterKill = acknowledged.filter((a) => a.at > killedAt);
    const firstResumed = acknowledged.find((a) => promotedAt !== undefined && a.at > promotedAt);
    // The longest wait a writer saw between two acknowledgements: the outage as the application feels it.
    const longestPause = Math.max(
      ...conversations.map((conversationId) => {
        const times = acknowledged.filter((a) => a.conversationId === conversationId).map((a) => a.at);
        return Math.max(0, ...times.slice(1).map((t, i) => t - (times[i] as number)));
      }),
    );

    // Every acknowledged append, looked for where it was acknowledged: same id, same seq.
    const present = new Map<string, Message>();
    for (const conversationId of conversations) {
      let cursor: string | undefined;
      do {
        const page = await store.list(conversationId, { limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
        for (const message of page.messages) present.set(message.id, message);
        cursor = page.next;
      } while (cursor !== undefined);
    }
    const survived = acknowledged.filter(
      (a) =>
        present.get(a.message.id)?.seq === a.message.seq && present.get(a.message.id)?.content === a.message.content,
    );
    const lost = acknowledged.length - survived.length;
    const newMaster = await masterPorts(survivor);

    console.log(
      [
        `redis cluster failover: killed master ${victim} (SIGKILL) after ${ackedBeforeKill} acknowledged appends`,
        `  acknowledged appends: ${acknowledged.length} (${afterKill.length} after the kill)`,
        `  present afterwards:   ${survived.length}`,
        `  lost acknowledged:    ${lost} (${((100 * lost) / Math.max(acknowledged.length, 1)).toFixed(2)} %)`,
        `  failed calls (not acknowledged): ${failures.length} (${[...new Set(failures.map((f) => f.code))].join(', ') || 'none'})`,
        `  replica promoted ${promotedAt === undefined ? 'never' : `${((promotedAt - killedAt) / 1000).toFixed(1)} s`} after the kill; masters now ${newMaster.join(', ')}`,
        `  writes resumed ${firstResumed === undefined ? 'never' : `${((firstResumed.at - killedAt) / 1000).toFixed(1)} s`} after the kill; longest pause of a writer ${(longestPause / 1000).toFixed(1)} s`,
      ].join('\n'),
    );

    expect(ackedBeforeKill).toBeGreaterThan(0);
    // Writes resumed: appends to the conversations of the killed master succeeded after the kill.
    expect(promotedAt).toBeDefined();
    expect(firstResumed).toBeDefined();
    expect(Array.from({ length: WRITERS }, (_, w) => resumedBy(w))).toEqual(Array(WRITERS).fill(true));
    // The figure is reported whatever it is; the loss is bounded by what was acknowledged.
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(survived.length).toBeLessThanOrEqual(acknowledged.length);
    // Nothing is stored twice: each externalId once per conversation.
    for (const conversationId of conversations) {
      const all = [...present.values()].filter((m) => m.conversationId === conversationId);
      expect(new Set(all.map((m) => m.externalId)).size).toBe(all.length);
    }
    await store.close();
  }, 120_000);
});
