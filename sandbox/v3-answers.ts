// WeChat Pay v3's answers as the sandbox gives them: signed with the key the merchant asked for (its
// Wechatpay-Serial), errors in v3's {code, message, detail} shape. Shared by payments and refunds.
import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import { randomNonce, responseMessage, rsaSign } from '../server/src/wechatpay/crypto';
import { currentCertificate, defaultSigner, type PlatformSigner, type SandboxState } from './state';

export interface V3Answers {
  /** `signer` overrides the choice (the certificate list is signed by a certificate, whatever was asked). */
  sendSigned(req: Request, res: Response, status: number, payload: unknown, signer?: PlatformSigner): void;
  v3Error(req: Request, res: Response, status: number, code: string, message: string, detail?: Record<string, unknown>): void;
}

/** Signed answers, as WeChat Pay gives them: with the key the merchant asked for by Wechatpay-Serial. */
export function v3Answers(s: SandboxState): V3Answers {
  const { keys } = s;
  function sendSigned(req: Request, res: Response, status: number, payload: unknown, forced?: PlatformSigner) {
    const body = payload === null ? '' : JSON.stringify(payload);
    // Asked for by the public key's id: signed with it. Otherwise with WeChat's current certificate, whichever the
    // merchant named (after a rotation, one it may not hold yet).
    const asked = req.get('Wechatpay-Serial');
    const signer = forced ?? (asked === keys.publicKeyId ? s.publicKeySigner : (currentCertificate(s) ?? defaultSigner(s)));
    const timestamp = Math.floor(s.now() / 1000).toString();
    const nonce = randomNonce(32);
    res.status(status).set({
      'Request-ID': `${crypto.randomBytes(16).toString('hex').toUpperCase()}-0`,
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': signer.serial,
      'Wechatpay-Signature': rsaSign(signer.privateKey, responseMessage(timestamp, nonce, body)),
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    });
    if (body) res.type('application/json; charset=utf-8').send(body);
    else res.end();
  }

  const v3Error = (req: Request, res: Response, status: number, code: string, message: string, detail?: Record<string, unknown>) =>
    sendSigned(req, res, status, { code, message, ...(detail ? { detail } : {}) });
  return { sendSigned, v3Error };
}
