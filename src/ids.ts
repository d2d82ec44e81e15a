/**
 * A new time-sortable message id: a UUIDv7 (RFC 9562) whose first 48 bits are the Unix time in
 * milliseconds, so ids made later sort later (within one millisecond their order is random, which
 * RFC 9562 allows; order is what `seq` is for). Built from `crypto.randomUUID()`, which draws from a
 * pooled random buffer: a generator asking the OS for 16 random bytes per id costs more than the
 * rest of an append.
 */
export function newMessageId(): string {
  const random = crypto.randomUUID(); // xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx
  const time = Date.now().toString(16).padStart(12, '0');
  // The variant bits of a v4 UUID are already those of v7; only the time and version change.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
