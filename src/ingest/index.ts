/**
 * `chatstore/ingest`: the providers' webhooks as store writes, for servers of any framework (the
 * chatstore server's `/webhooks/*` use the same): check the signature, parse the payload into
 * events, apply them. Web-standard only (Web Crypto), so it runs on Node and in Workers.
 * @example
 * if (!(await verifyWhatsAppSignature(raw, req.headers['x-hub-signature-256'], appSecret))) return res.status(401).end();
 * await applyEvents(store, whatsappEvents(JSON.parse(raw)));
 */
export { applyEvents, type IngestResult } from './apply.js';
export type { EditEvent, IngestEvent, MessageEvent, StatusEvent } from './events.js';
export { twilioSignature, verifySecretToken, verifyTwilioSignature, verifyWhatsAppSignature } from './signatures.js';
export { telegramEvents } from './telegram.js';
export { formParams, twilioEvents } from './twilio.js';
export { whatsappEvents } from './whatsapp.js';
