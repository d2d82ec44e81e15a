/**
 * Size limits enforced at the store boundary (docs/api.md); beyond them a call fails with
 * `INVALID_ARGUMENT` and stores nothing.
 * @example new ChatStore(backend, { limits: { maxContentBytes: 16 * 1024 } })
 */
export interface Limits {
  /** Longest id of any kind (message, conversation, external, participant), in characters. */
  maxIdLength: number;
  /** Largest `content`, in UTF-8 bytes. */
  maxContentBytes: number;
  /** Largest `metadata` + `parts` + `media`, serialized as JSON, in UTF-8 bytes. */
  maxStructuredBytes: number;
  /** Most messages in one `append` call. */
  maxBatchSize: number;
  /** Largest page any read returns. */
  maxPageSize: number;
}

/** @example DEFAULT_LIMITS.maxContentBytes === 65536 */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxIdLength: 255,
  maxContentBytes: 64 * 1024,
  maxStructuredBytes: 256 * 1024,
  maxBatchSize: 1000,
  maxPageSize: 1000,
};
