/**
 * The part of a `pg` client the schema code and the partition manager use, and a transaction on one
 * client checked out of a pool.
 */

/** The part of a `pg` client the migration uses. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** A client checked out of a pool: released after use, destroyed (`release(error)`) when broken. */
export interface PgCheckedOut extends PgQueryable {
  release(destroy?: boolean | Error): void;
}

/**
 * Runs `work` in a transaction on `client` and releases it: COMMIT when `work` resolves, ROLLBACK
 * when it throws. A client whose ROLLBACK fails is unusable and is destroyed, not returned to the pool.
 */
export async function inTransaction<T>(client: PgCheckedOut, work: () => Promise<T>): Promise<T> {
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
