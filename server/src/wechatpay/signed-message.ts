// One validator for everything WeChat Pay signs towards us: API responses and notifications.
// The checks run cheapest first, each with its own reason:
//   headers → timestamp → probe → signature type → serial → signature
import { responseMessage } from './crypto';
import type { Verifier } from './verifier';

import { MAX_SKEW_S } from './time';

export { MAX_SKEW_S };

const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';
export const SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';

export interface SignatureHeaders {
  serial?: string | null;
  signature?: string | null;
  timestamp?: string | null;
  nonce?: string | null;
  signatureType?: string | null;
}

export type SignatureProblem =
  | 'MISSING_HEADERS'
  | 'BAD_TIMESTAMP'
  | 'STALE_TIMESTAMP'
  | 'SIGNTEST_PROBE'
  | 'UNSUPPORTED_SIGNATURE_TYPE'
  | 'UNKNOWN_SERIAL'
  | 'BAD_SIGNATURE';

export type SignatureCheck = { ok: true } | { ok: false; problem: SignatureProblem; message: string };

/** Trusted only when signed by a key we know, fresh, and over the exact bytes received. */
export function checkSignedMessage(verifier: Verifier, h: SignatureHeaders, body: string, nowMs: number): SignatureCheck {
  const fail = (problem: SignatureProblem, message: string): SignatureCheck => ({ ok: false, problem, message });
  const { serial, signature, timestamp, nonce } = h;
  if (!serial || !signature || !timestamp || !nonce) {
    return fail('MISSING_HEADERS', 'Wechatpay-Serial, Wechatpay-Signature, Wechatpay-Timestamp and Wechatpay-Nonce are required');
  }
  if (!/^\d{1,12}$/.test(timestamp)) return fail('BAD_TIMESTAMP', 'Wechatpay-Timestamp is not a Unix time in seconds');
  if (Math.abs(nowMs / 1000 - Number(timestamp)) >= MAX_SKEW_S) {
    return fail('STALE_TIMESTAMP', 'Wechatpay-Timestamp is more than 5 minutes from our clock');
  }
  if (signature.startsWith(SIGNTEST_PREFIX)) return fail('SIGNTEST_PROBE', 'signature probe refused, as WeChat expects');
  if (h.signatureType && h.signatureType !== SIGNATURE_TYPE) {
    return fail('UNSUPPORTED_SIGNATURE_TYPE', `unsupported Wechatpay-Signature-Type ${h.signatureType}`);
  }
  if (!verifier.knows(serial)) return fail('UNKNOWN_SERIAL', `no WeChat Pay key with serial ${serial}`);
  if (!verifier.verify(serial, responseMessage(timestamp, nonce, body), signature))
    return fail('BAD_SIGNATURE', 'signature does not verify');
  return { ok: true };
}
