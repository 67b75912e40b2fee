// A message push (消息推送, shipping.md §4) from raw request to message: a fixed pipeline over the query
// and the raw body, each step with its own refusal — the timestamp fresh, the JSON readable, the
// signature valid, the ciphertext ours. It decides nothing about what the message says.
import { aesKeyOf, decryptMessage, pushSignature, sameSignature } from './message-crypto';

/** choice: WeChat documents no window for a push's timestamp; 5 minutes either way, as for WeChat Pay. */
export const PUSH_MAX_SKEW_S = 300;

/** The key a push's (timestamp, nonce) is remembered by, and until when: as long as the timestamp is fresh. */
export const pushReplayKey = (timestamp: string, nonce: string) => ({
  key: `push:${timestamp}:${nonce}`,
  until: (Number(timestamp) + PUSH_MAX_SKEW_S + 1) * 1000,
});

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

/**
 * Verifies and opens a push. Safe mode only (安全模式): msg_signature covers the ciphertext, and the
 * ciphertext names our appid. A plaintext push is refused however well signed: its signature covers
 * token, timestamp and nonce but not the body, and a safe-mode push carries that same triple in its URL.
 */
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
  if (q(query.encrypt_type) !== 'aes')
    return refuse(401, 'NOT_SAFE_MODE', 'plaintext pushes are refused: configure the message push in safe mode (安全模式)');
  const encrypted = q(body.Encrypt);
  if (!encrypted || !sameSignature(q(query.msg_signature), pushSignature(config.token, timestamp, nonce, encrypted)))
    return refuse(401, 'MSG_SIGNATURE', 'msg_signature does not match');
  try {
    const message = JSON.parse(decryptMessage(key, encrypted, config.appid)) as Record<string, unknown>;
    if (!message || typeof message !== 'object' || Array.isArray(message))
      return refuse(400, 'NOT_JSON', 'the message is not a JSON object');
    return { ok: true, message, timestamp, nonce };
  } catch (err) {
    return refuse(401, 'DECRYPT', `cannot decrypt: ${(err as Error).message}`);
  }
}
