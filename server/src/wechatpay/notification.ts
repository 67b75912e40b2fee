// A WeChat Pay notification is a fixed pipeline over the raw bytes. Each step has its own
// reason, so every rejection can be tested and logged on its own:
//   headers → timestamp → probe → signature type → serial → signature → envelope → algorithm → decrypt → parse
import { z } from 'zod';
import { aesGcmDecrypt, responseMessage } from './crypto';
import type { Transaction } from './client';
import type { Verifier } from './verifier';

export type RejectReason =
  | 'MISSING_HEADERS'
  | 'BAD_TIMESTAMP'
  | 'STALE_TIMESTAMP'
  | 'SIGNTEST_PROBE'
  | 'UNSUPPORTED_SIGNATURE_TYPE'
  | 'UNKNOWN_SERIAL'
  | 'BAD_SIGNATURE'
  | 'MALFORMED_BODY'
  | 'UNSUPPORTED_ALGORITHM'
  | 'DECRYPT_FAILED'
  | 'MALFORMED_RESOURCE';

export class NotificationRejected extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
    this.name = 'NotificationRejected';
  }
  /** Every rejection is a 4xx so WeChat retries later with a good signature. */
  get status(): number {
    return this.reason === 'BAD_SIGNATURE' || this.reason === 'SIGNTEST_PROBE' ? 401 : 400;
  }
}

export interface NotificationHeaders {
  serial?: string;
  signature?: string;
  timestamp?: string;
  nonce?: string;
  signatureType?: string;
  requestId?: string;
}

export interface VerifiedNotification {
  id: string;
  eventType: string;
  createTime: string;
  /** Present for payment events (original_type "transaction"). */
  transaction: Transaction | null;
}

export const MAX_NOTIFICATION_SKEW_S = 300;
const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

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

const transactionSchema = z.object({
  appid: z.string(),
  mchid: z.string(),
  out_trade_no: z.string(),
  transaction_id: z.string().optional(),
  trade_type: z.string().optional(),
  trade_state: z.string(),
  trade_state_desc: z.string().optional(),
  success_time: z.string().optional(),
  payer: z.object({ openid: z.string().optional() }).optional(),
  amount: z
    .object({
      total: z.number().int().optional(),
      payer_total: z.number().int().optional(),
      currency: z.string().optional(),
      payer_currency: z.string().optional(),
    })
    .optional(),
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
  const { serial, signature, timestamp, nonce } = headers;
  if (!serial || !signature || !timestamp || !nonce) {
    reject('MISSING_HEADERS', 'Wechatpay-Serial, Wechatpay-Signature, Wechatpay-Timestamp and Wechatpay-Nonce are required');
  }
  if (!/^\d{1,12}$/.test(timestamp!)) reject('BAD_TIMESTAMP', 'Wechatpay-Timestamp is not a Unix time in seconds');
  if (Math.abs(deps.nowMs() / 1000 - Number(timestamp)) >= MAX_NOTIFICATION_SKEW_S) {
    reject('STALE_TIMESTAMP', 'Wechatpay-Timestamp is more than 5 minutes from our clock');
  }
  if (signature!.startsWith(SIGNTEST_PREFIX)) reject('SIGNTEST_PROBE', 'signature probe refused, as WeChat expects');
  if (headers.signatureType && headers.signatureType !== 'WECHATPAY2-SHA256-RSA2048') {
    reject('UNSUPPORTED_SIGNATURE_TYPE', `unsupported Wechatpay-Signature-Type ${headers.signatureType}`);
  }
  if (!deps.verifier.knows(serial!)) reject('UNKNOWN_SERIAL', `no WeChat Pay key with serial ${serial}`);
  // The signature covers the bytes exactly as received: never a re-serialized object.
  const body = rawBody.toString('utf8');
  if (!deps.verifier.verify(serial!, responseMessage(timestamp!, nonce!, body), signature!)) {
    reject('BAD_SIGNATURE', 'signature does not verify');
  }
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
  if ((r.original_type ?? 'transaction') === 'transaction' && envelope.event_type.startsWith('TRANSACTION.')) {
    try {
      transaction = transactionSchema.parse(JSON.parse(plaintext));
    } catch {
      return reject('MALFORMED_RESOURCE', 'decrypted resource is not a transaction');
    }
  }
  return { id: envelope.id, eventType: envelope.event_type, createTime: envelope.create_time, transaction };
}
