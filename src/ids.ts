import { v7 as uuidv7 } from 'uuid';

/**
 * A new time-sortable message id (UUIDv7): ids created later sort later, within a process even in
 * the same millisecond.
 * @example const id = newMessageId(); // '019a8f2e-7c1b-7d3e-9f00-4b1c2d3e4f50'
 */
export function newMessageId(): string {
  return uuidv7();
}
