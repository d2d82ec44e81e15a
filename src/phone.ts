/**
 * Phone numbers as conversation and participant ids: E.164 (`+15550102030`), the form migration,
 * webhook ingest and the logger agree on, so one customer is one conversation whichever way their
 * messages arrive.
 */

/**
 * A phone number as E.164 when it looks like one (`whatsapp:+1 (555) 010-2030`, `0044 20…`,
 * `15550102030`): the `whatsapp:`/`tel:`/`sms:` prefix, spaces, dots, dashes and parentheses
 * dropped, a leading `00` read as `+`, and a `+` added to bare digits. Anything else stays as it is.
 * @example normalizedPhone('whatsapp:+1 555-010-2030') // '+15550102030'
 */
export function normalizedPhone(key: string): string {
  const bare = key.replace(/^(whatsapp|tel|sms):/i, '').replace(/[\s().-]/g, '');
  const plus = bare.startsWith('00') ? `+${bare.slice(2)}` : /^\d/.test(bare) ? `+${bare}` : bare;
  return /^\+\d{6,15}$/.test(plus) ? plus : key;
}
