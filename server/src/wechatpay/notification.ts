// A WeChat Pay notification is a fixed pipeline over the raw bytes. Each step has its own
// reason, so every rejection can be tested and logged on its own:
//   signed message (headers → timestamp → probe → signature type → serial → signature)
//   → envelope → algorithm → decrypt → parse
import { z } from 'zod';
import { aesGcmDecrypt } from './crypto';
import { checkSignedMessage, type SignatureHeaders, type SignatureProblem } from './signed-message';
import { refundSchema, type WechatRefund } from './refund';
import { transactionSchema, type Transaction } from './transaction';
import type { Verifier } from './verifier';

export type RejectReason = SignatureProblem | 'MALFORMED_BODY' | 'UNSUPPORTED_ALGORITHM' | 'DECRYPT_FAILED' | 'MALFORMED_RESOURCE';

export class NotificationRejected extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
    this.name = 'NotificationRejected';
  }
  /** A signature that does not hold (or a probe that must not), as opposed to a malformed delivery. */
  get unauthentic(): boolean {
    return this.reason === 'BAD_SIGNATURE' || this.reason === 'SIGNTEST_PROBE';
  }
}

export type NotificationHeaders = SignatureHeaders;

export interface VerifiedNotification {
  id: string;
  eventType: string;
  createTime: string;
  /** Present for payment events (original_type "transaction"). */
  transaction: Transaction | null;
  /** Present for refund events (original_type "refund"). */
  refund: WechatRefund | null;
  /** Present for complaint events (original_type "complaint"): which complaint, and what happened to it. */
  complaint: { complaint_id: string; action_type: string } | null;
}

const envelopeSchema = z.object({
  id: z.string().min(1).max(64),
  create_time: z.string().max(64),
  event_type: z.string().min(1).max(64),
  resource_type: z.string().max(64).optional(),
  summary: z.string().optional(),
  resource: z.object({
    algorithm: z.string(),
    ciphertext: z.string().min(1),
    nonce: z.string().min(1),
    associated_data: z.string().optional(),
    original_type: z.string().optional(),
  }),
});

export interface NotificationParserDeps {
  verifier: Verifier;
  apiV3Key: string;
  nowMs: () => number;
}

export function parseNotification(deps: NotificationParserDeps, headers: NotificationHeaders, rawBody: Buffer): VerifiedNotification {
  const reject = (reason: RejectReason, message: string): never => {
    throw new NotificationRejected(reason, message);
  };
  // The signature covers the bytes exactly as received: never a re-serialized object.
  const body = rawBody.toString('utf8');
  const check = checkSignedMessage(deps.verifier, headers, body, deps.nowMs());
  if (!check.ok) reject(check.problem, check.message);
  let envelope: z.infer<typeof envelopeSchema>;
  try {
    envelope = envelopeSchema.parse(JSON.parse(body));
  } catch {
    return reject('MALFORMED_BODY', 'body is not a WeChat Pay notification');
  }
  const r = envelope.resource;
  if (r.algorithm !== 'AEAD_AES_256_GCM') reject('UNSUPPORTED_ALGORITHM', `unsupported algorithm ${r.algorithm}`);
  let plaintext: string;
  try {
    plaintext = aesGcmDecrypt(deps.apiV3Key, r.nonce, r.associated_data ?? '', r.ciphertext);
  } catch {
    return reject('DECRYPT_FAILED', 'resource does not decrypt with the APIv3 key');
  }
  let transaction: Transaction | null = null;
  let refund: WechatRefund | null = null;
  const originalType = r.original_type ?? (envelope.event_type.startsWith('REFUND.') ? 'refund' : 'transaction');
  if (originalType === 'transaction' && envelope.event_type.startsWith('TRANSACTION.')) {
    try {
      transaction = transactionSchema.parse(JSON.parse(plaintext));
    } catch {
      return reject('MALFORMED_RESOURCE', 'decrypted resource is not a transaction');
    }
  } else if (originalType === 'refund' && envelope.event_type.startsWith('REFUND.')) {
    try {
      refund = refundSchema.parse(JSON.parse(plaintext));
    } catch {
      return reject('MALFORMED_RESOURCE', 'decrypted resource is not a refund');
    }
  }
  let complaint: VerifiedNotification['complaint'] = null;
  if (originalType === 'complaint' && envelope.event_type.startsWith('COMPLAINT.')) {
    try {
      const c = JSON.parse(plaintext) as { complaint_id?: unknown; action_type?: unknown };
      if (typeof c.complaint_id !== 'string' || !/^[0-9A-Za-z_-]{1,64}$/.test(c.complaint_id)) throw new Error('no complaint_id');
      complaint = { complaint_id: c.complaint_id, action_type: typeof c.action_type === 'string' ? c.action_type.slice(0, 64) : '' };
    } catch {
      return reject('MALFORMED_RESOURCE', 'decrypted resource is not a complaint');
    }
  }
  return { id: envelope.id, eventType: envelope.event_type, createTime: envelope.create_time, transaction, refund, complaint };
}

/** A v3 delivery's signature headers, from the lower-cased request headers. */
export const signatureHeadersOf = (headers: Record<string, string | undefined>): NotificationHeaders => ({
  serial: headers['wechatpay-serial'],
  signature: headers['wechatpay-signature'],
  timestamp: headers['wechatpay-timestamp'],
  nonce: headers['wechatpay-nonce'],
  signatureType: headers['wechatpay-signature-type'],
});

/** A refused delivery, plainly: why, and — when signed by a serial not held — which one (a rotation may have brought it). */
export function rejectionOf(err: NotificationRejected, headers: Record<string, string | undefined>) {
  const serial = headers['wechatpay-serial'];
  return {
    reason: err.reason,
    message: err.message,
    unauthentic: err.unauthentic,
    ...(err.reason === 'UNKNOWN_SERIAL' && serial ? { unknownKey: serial } : {}),
  };
}
