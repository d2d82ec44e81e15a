/**
 * Who is calling: the scopes an API key grants and the principal a checked key becomes. A leaf file,
 * so the request environment (`env.ts`) and the key checks (`auth.ts`) can both use it.
 */

/** `admin` implies `read` and `write`; `write` does not imply `read`. */
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** The caller behind a request; `keyIndex` is the key's position in the configuration (for logs, never the key). */
export interface Principal {
  keyIndex: number;
  scopes: ReadonlySet<Scope>;
}
