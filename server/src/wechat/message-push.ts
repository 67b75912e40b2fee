// A message push (消息推送, shipping.md §4) from raw request to message: a fixed pipeline over the query
// and the raw body, each step with its own refusal — the timestamp fresh, the JSON readable, the
// signature valid, the ciphertext ours. It decides nothing about what the message says.
import { aesKeyOf, decryptMessage, pushSignature, sameSignature } from './message-crypto';

/** choice: WeChat documents no window for a push's timestamp; 5 minutes either way, as for WeChat Pay. */
export const PUSH_MAX_SKEW_S = 300;

export interface PushConfig {
  token: string;
  /** The 43-character EncodingAESKey. */
  aesKey: string;
  appid: string;
}

export type PushQuery = Record<string, unknown>;

export type OpenedPush =
  | { ok: true; message: Record<string, unknown>; timestamp: string; nonce: string }
  /** `status`: 400 for a malformed push, 401 for one that could not be trusted. */
  | { ok: false; status: 400 | 401; reason: string; message: string };

const q = (v: unknown) => (typeof v === 'string' ? v : '');

/** The URL check WeChat makes when the push URL is configured: echostr back once the signature holds, else null. */
export function answerUrlCheck(query: PushQuery, config: PushConfig): string | null {
  return sameSignature(q(query.signature), pushSignature(config.token, q(query.timestamp), q(query.nonce))) ? q(query.echostr) : null;
}

/** Verifies and opens a push: plaintext (signature over token, timestamp, nonce) or safe mode (msg_signature over the ciphertext too). */
export function openPush(query: PushQuery, rawBody: string, config: PushConfig, nowMs: number): OpenedPush {
  const refuse = (status: 400 | 401, reason: string, message: string): OpenedPush => ({ ok: false, status, reason, message });
  const key = aesKeyOf(config.aesKey);
  if (!key) throw new Error('the EncodingAESKey is not 43 characters of base64');
  const timestamp = q(query.timestamp);
  const nonce = q(query.nonce);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > PUSH_MAX_SKEW_S)
    return refuse(401, 'STALE', 'timestamp missing or too far from now');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(rawBody) as Record<string, unknown>;
  } catch {
    return refuse(400, 'NOT_JSON', 'send JSON (the message push format must be JSON)');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return refuse(400, 'NOT_JSON', 'send a JSON object');
  if (q(query.encrypt_type) === 'aes') {
    const encrypted = q(body.Encrypt);
    if (!encrypted || !sameSignature(q(query.msg_signature), pushSignature(config.token, timestamp, nonce, encrypted)))
      return refuse(401, 'MSG_SIGNATURE', 'msg_signature does not match');
    try {
      const message = JSON.parse(decryptMessage(key, encrypted, config.appid)) as Record<string, unknown>;
      return { ok: true, message, timestamp, nonce };
    } catch (err) {
      return refuse(401, 'DECRYPT', `cannot decrypt: ${(err as Error).message}`);
    }
  }
  if (!sameSignature(q(query.signature), pushSignature(config.token, timestamp, nonce)))
    return refuse(401, 'SIGNATURE', 'signature does not match');
  return { ok: true, message: body, timestamp, nonce };
}
