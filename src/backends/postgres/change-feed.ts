/**
 * The postgres backend's change feed (`Backend.changeFeed`): `LISTEN`/`NOTIFY` on one channel per
 * schema. A feed keeps one client of the pool checked out to listen on; a publish is one `NOTIFY`
 * on the pool. Every payload names the instance that sent it, so an instance never hears itself.
 * When the listening connection breaks, the feed is not live (a cache then serves nothing), tells
 * its listener `'*'` (anything may have changed meanwhile) and connects again, with a growing
 * pause; once it listens again it says `'*'` once more and is live.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeFeed, ChangeListener } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { PgContext } from './context.js';
import { toChatStoreError } from './errors.js';
import { ident } from './schema.js';
import type { PgPoolClient } from './types.js';

/** PostgreSQL refuses a payload of 8,000 bytes or more; a longer list is sent as `'*'`. */
const MAX_PAYLOAD_BYTES = 7_900;
/** Pauses between attempts to listen again, in ms; the last one repeats. */
const RECONNECT_PAUSES_MS = [50, 100, 250, 500, 1_000, 2_000];

/** What one instance sends: who it is, and which conversations changed (`*`: any). */
interface Payload {
  from: string;
  change: readonly string[] | '*';
}

/** The channel of a schema: an identifier of at most 63 bytes, whatever the schema's name. */
export function changeChannel(schema: string): string {
  return `chatstore_changes_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

/** A feed over the backend's pool (see the file comment). */
export function pgChangeFeed(ctx: PgContext): ChangeFeed {
  const channel = changeChannel(ctx.layout.schema);
  const self = randomUUID();
  let listener: ChangeListener | undefined;
  let current: { client: PgPoolClient; release(error?: Error): void } | undefined;
  let live = false;
  let closed = false;
  let reconnecting = false;

  const onNotification = (message: { channel: string; payload?: string }): void => {
    if (message.channel !== channel || message.payload === undefined) return;
    let payload: Payload;
    try {
      payload = JSON.parse(message.payload) as Payload;
    } catch {
      listener?.('*');
      return;
    }
    if (payload.from !== self) listener?.(payload.change);
  };

  /** Takes a client off the pool and listens on it; when its connection breaks, connects again. */
  const listen = async (): Promise<void> => {
    const taken = await ctx.pool.connect();
    const events = taken as unknown as NodeJS.EventEmitter;
    let released = false;
    const detach = (): void => {
      events.off('notification', onNotification);
      events.off('error', broken);
      events.off('end', ended);
    };
    const release = (error?: Error): void => {
      if (released) return;
      released = true;
      detach();
      taken.release(error);
    };
    function broken(error: Error): void {
      const wasCurrent = current?.client === taken;
      if (wasCurrent) current = undefined;
      release(error);
      if (!wasCurrent || closed) return;
      // Changes published from now until listening again are lost: nothing cached may be served.
      live = false;
      listener?.('*');
      void reconnect();
    }
    function ended(): void {
      broken(new Error('postgres: the listening connection ended'));
    }
    events.on('notification', onNotification);
    events.on('error', broken);
    events.on('end', ended);
    try {
      await taken.query(`LISTEN ${ident(channel)}`);
    } catch (error) {
      release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    if (released) throw new ChatStoreError('UNAVAILABLE', 'postgres: the listening connection broke');
    current = { client: taken, release };
    live = true;
    // Whatever was published before this point is unknown to this instance.
    listener?.('*');
  };

  const reconnect = async (): Promise<void> => {
    if (reconnecting) return;
    reconnecting = true;
    try {
      for (let attempt = 0; !closed && !live; attempt++) {
        await sleep(RECONNECT_PAUSES_MS[Math.min(attempt, RECONNECT_PAUSES_MS.length - 1)] as number);
        if (closed) return;
        try {
          await listen();
        } catch {
          // Again after the next pause; the feed stays not live meanwhile.
        }
      }
    } finally {
      reconnecting = false;
    }
  };

  return {
    get live() {
      return live && !closed;
    },
    async subscribe(onChange) {
      ctx.ensureOpen();
      listener = onChange;
      try {
        await listen();
      } catch (error) {
        throw toChatStoreError(error);
      }
    },
    async publish(change) {
      ctx.ensureOpen();
      let payload = JSON.stringify({ from: self, change } satisfies Payload);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) payload = JSON.stringify({ from: self, change: '*' });
      await ctx.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (closed) return;
      closed = true;
      live = false;
      const listening = current;
      current = undefined;
      if (listening === undefined) return;
      try {
        await listening.client.query(`UNLISTEN ${ident(channel)}`);
        listening.release();
      } catch (error) {
        listening.release(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}
