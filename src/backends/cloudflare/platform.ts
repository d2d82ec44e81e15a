/**
 * The parts of the Cloudflare Workers runtime this engine uses, typed here so that the engine
 * compiles beside Node's types (`@cloudflare/workers-types` redeclares the Web globals). The names
 * and shapes are the runtime's own; nothing here is implemented.
 */

/** A statement's result: rows as objects, read once. */
export interface SqlCursor<Row> {
  toArray(): Row[];
  one(): Row;
  readonly rowsRead: number;
  readonly rowsWritten: number;
}

/** `ctx.storage.sql` of a SQLite-backed Durable Object: synchronous, `?` parameters only. */
export interface SqlStorage {
  exec<Row = Record<string, SqlValue>>(query: string, ...bindings: SqlValue[]): SqlCursor<Row>;
  readonly databaseSize: number;
}

export type SqlValue = string | number | null | ArrayBuffer;

/** A Durable Object's storage: SQL, the transaction that wraps it (`BEGIN` is refused), the alarm. */
export interface DurableObjectStorage {
  readonly sql: SqlStorage;
  transactionSync<T>(body: () => T): T;
  setAlarm(scheduledTime: number): Promise<void>;
  getAlarm(): Promise<number | null>;
}

/** The `ctx` (state) a Durable Object is constructed with. */
export interface DurableObjectState {
  readonly storage: DurableObjectStorage;
  blockConcurrencyWhile<T>(body: () => Promise<T>): Promise<T>;
}

/** A way to reach one object: requests go to wherever it lives. */
export interface DurableObjectStub {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectId {
  toString(): string;
}

/** A Durable Object binding (`[[durable_objects.bindings]]`): objects by name. */
export interface DurableObjectNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
}
