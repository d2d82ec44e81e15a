/**
 * The providers' webhook signatures, checked with Web Crypto (Node and Workers alike). An HMAC is
 * compared by `crypto.subtle.verify`, which compares in constant time; a shared secret token by
 * `sameText`, which looks at every byte whatever differs.
 */

const encoder = new TextEncoder();

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

async function hmacKey(secret: string, hash: 'SHA-256' | 'SHA-1'): Promise<HmacKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash }, false, ['sign', 'verify']);
}

/**
 * WhatsApp Cloud API (Meta): `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body
 * with the app secret. False for a missing or malformed header.
 */
export async function verifyWhatsAppSignature(
  rawBody: Uint8Array | string,
  header: string | undefined,
  appSecret: string,
): Promise<boolean> {
  const hex = /^sha256=([0-9a-fA-F]{64})$/.exec(header?.trim() ?? '')?.[1];
  if (hex === undefined) return false;
  const signature = new Uint8Array(32);
  for (let i = 0; i < 32; i++) signature[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody;
  return crypto.subtle.verify('HMAC', await hmacKey(appSecret, 'SHA-256'), signature, body);
}

/**
 * Twilio: `X-Twilio-Signature`, the base64 HMAC-SHA1, keyed by the auth token, of the full URL Twilio
 * requested followed by each POST parameter's name and value, sorted by name.
 */
export async function twilioSignature(
  url: string,
  params: Readonly<Record<string, string>>,
  authToken: string,
): Promise<string> {
  const signed = await crypto.subtle.sign(
    'HMAC',
    await hmacKey(authToken, 'SHA-1'),
    encoder.encode(signedText(url, params)),
  );
  return btoa(String.fromCharCode(...new Uint8Array(signed)));
}

export async function verifyTwilioSignature(
  url: string,
  params: Readonly<Record<string, string>>,
  header: string | undefined,
  authToken: string,
): Promise<boolean> {
  const signature = base64Bytes(header?.trim() ?? '');
  if (signature === undefined || signature.length !== 20) return false;
  return crypto.subtle.verify(
    'HMAC',
    await hmacKey(authToken, 'SHA-1'),
    signature,
    encoder.encode(signedText(url, params)),
  );
}

function signedText(url: string, params: Readonly<Record<string, string>>): string {
  const names = Object.keys(params).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return url + names.map((name) => name + params[name]).join('');
}

function base64Bytes(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * A shared secret token as presented, compared in constant time: Telegram's
 * `X-Telegram-Bot-Api-Secret-Token` (the `secret_token` given to `setWebhook`), WhatsApp's
 * `hub.verify_token`.
 */
export function verifySecretToken(header: string | undefined, secretToken: string): boolean {
  return header !== undefined && sameText(header, secretToken);
}

/** Two strings compared over every byte of the longer, so the time says nothing of where they differ. */
function sameText(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let difference = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) difference |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return difference === 0;
}
