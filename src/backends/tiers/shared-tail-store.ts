/**
 * What the shared tier (L2, `sharedTails`) needs of the server that holds the tails every instance
 * shares: a Redis server or cluster (`chatstore/redis`'s `redisTailStore`). One conversation's
 * tail, its version and its write leases live together (one Redis Cluster slot), and each call is
 * atomic on the server.
 *
 * The protocol that keeps a shared tail from ever holding less than the engine once a write is
 * acknowledged (docs/tiers.md, "L2"):
 * - a writer takes a lease on the conversation and bumps its version before it writes to the engine,
 *   then, after the engine committed, extends, changes or drops the tail, bumps the version again
 *   and gives the lease back, all in one call;
 * - a reader that finds no tail notes the version; if no lease is held it reads the engine and puts
 *   the tail only if the version is still the one noted and still no lease is held: any write that
 *   its engine read could have missed has bumped the version since;
 * - a lease not given back in time (its writer died between the engine's commit and the tail's
 *   update) makes the next read drop the tail: what the dead writer committed is read from the
 *   engine again.
 */
import type { RangeQuery } from '../../backend.js';
import type { Message } from '../../model.js';
import type { Tail } from './tails.js';

/** What a range read of a shared tail found. */
export type SharedTailRead =
  /** The tail answers the read exactly: these messages, in the order asked. */
  | { answer: Message[] }
  /** There is a tail, but the read reaches below it: the engine must answer. */
  | { answer?: undefined; uncovered: true }
  | {
      answer?: undefined;
      uncovered?: undefined;
      /** No tail. The conversation's version now: a fill must bring it back unchanged. */
      version: string;
      /** True while some writer holds a lease: a fill would be refused. */
      writing: boolean;
    };

/** What a write does to the tail once the engine committed it. */
export type SharedTailChange =
  | { kind: 'none' }
  | { kind: 'extend'; messages: readonly Message[]; keep: number }
  | { kind: 'replace'; message: Message }
  | { kind: 'drop' };

export interface SharedTailStore {
  /** A range read answered from the tail on the server, as `rangeFromTail` would (only what is asked travels). */
  read(conversationId: string, query: RangeQuery): Promise<SharedTailRead>;
  /** Puts the tail read from the engine; false when a write came in between (it is then not put). */
  fill(conversationId: string, version: string, tail: Tail): Promise<boolean>;
  /** Before a write to the engine: a lease for `leaseMs`, and a new version. */
  beginWrite(conversationId: string, token: string, leaseMs: number): Promise<void>;
  /** After the engine committed (or failed): the change applied, a new version, the lease given back. */
  endWrite(conversationId: string, token: string, change: SharedTailChange): Promise<void>;
  /** Drops every tail (an erasure reaches any conversation). */
  dropAll(): Promise<void>;
  /** Drops the tails of these conversations (after writes this instance could not tell the server of). */
  drop(conversationIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
