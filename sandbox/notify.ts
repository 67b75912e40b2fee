// Builds WeChat Pay notifications exactly as WeChat sends them: the transaction encrypted with
// AEAD_AES_256_GCM (AAD "transaction"), the envelope signed over "timestamp\nnonce\nbody\n".
import crypto, { type KeyObject } from 'node:crypto';
import { aesGcmEncrypt, randomNonce, responseMessage, rsaSign } from '../server/src/wechatpay/crypto';
import { beijingTime } from '../server/src/wechatpay/time';

export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
}

export interface NotificationSigner {
  serial: string;
  privateKey: KeyObject;
}

export interface BuildOptions {
  apiV3Key: string;
  signer: NotificationSigner;
  /** The decrypted resource: a transaction (AAD "transaction"), or a refund with `originalType: 'refund'`. */
  transaction: Record<string, unknown>;
  originalType?: 'transaction' | 'refund' | 'complaint';
  id?: string;
  eventType?: string;
  nowMs?: number;
  /** A deliberately wrong signature starting WECHATPAY/SIGNTEST/, as WeChat's probes do. */
  signtest?: boolean;
}

export function buildNotification(o: BuildOptions): SignedDelivery {
  const now = o.nowMs ?? Date.now();
  const nonce = randomNonce(12);
  const kind = o.originalType ?? 'transaction';
  const envelope = {
    id: o.id ?? crypto.randomUUID(),
    create_time: beijingTime(now),
    resource_type: 'encrypt-resource',
    event_type: o.eventType ?? (kind === 'refund' ? 'REFUND.SUCCESS' : 'TRANSACTION.SUCCESS'),
    summary: kind === 'refund' ? '退款状态变更' : kind === 'complaint' ? '投诉单变更' : '支付成功',
    resource: {
      original_type: kind,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: aesGcmEncrypt(o.apiV3Key, nonce, kind, JSON.stringify(o.transaction)),
      associated_data: kind,
      nonce,
    },
  };
  return signEnvelope(JSON.stringify(envelope), o.signer, now, o.signtest);
}

export function signEnvelope(body: string, signer: NotificationSigner, nowMs: number, signtest = false): SignedDelivery {
  const timestamp = Math.floor(nowMs / 1000).toString();
  const nonce = randomNonce(32);
  const signature = signtest
    ? `WECHATPAY/SIGNTEST/${randomNonce(40)}`
    : rsaSign(signer.privateKey, responseMessage(timestamp, nonce, body));
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'Request-ID': `${crypto.randomBytes(16).toString('hex').toUpperCase()}-0`,
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': signature,
      'Wechatpay-Serial': signer.serial,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    },
  };
}
