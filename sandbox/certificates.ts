// WeChat Pay's platform certificates as the sandbox keeps them (protocol.md §5.3): GET /v3/certificates lists
// the valid ones, each encrypted with the APIv3 key (AAD `certificate`), the answer signed by the current
// certificate; a merchant with none (public-key mode) gets 404 RESOURCE_NOT_EXISTS, as WeChat answers one that
// only has a WeChat Pay public key. Switches rotate a certificate in (listed now, used now or after a notice)
// and expire one, in sandbox time. Requests reach here authenticated by v3-pay.ts.
import crypto from 'node:crypto';
import express, { type Router } from 'express';
import { aesGcmEncrypt, randomNonce } from '../server/src/wechatpay/crypto';
import { beijingTime } from '../server/src/wechatpay/time';
import { generatePlatformCertificate } from './keys';
import { currentCertificate, listedCertificates, sandboxCertificate, type SandboxCertificate, type SandboxState } from './state';
import type { V3Answers } from './v3-answers';

export function certificateRoutes(s: SandboxState, answers: V3Answers): Router {
  const r = express.Router();
  r.get('/v3/certificates', (req, res) => {
    const listed = listedCertificates(s);
    const signer = currentCertificate(s) ?? listed[listed.length - 1];
    if (!signer) {
      return answers.v3Error(req, res, 404, 'RESOURCE_NOT_EXISTS', '无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。');
    }
    const tamper = s.controls.tamperCertificates;
    const apiV3Key = tamper === 'encryption' ? randomNonce(32) : s.keys.apiV3Key;
    const data = listed.map((c) => {
      const nonce = randomNonce(12);
      return {
        serial_no: c.serial,
        effective_time: beijingTime(c.notBefore),
        expire_time: beijingTime(c.notAfter),
        encrypt_certificate: {
          algorithm: 'AEAD_AES_256_GCM',
          nonce,
          associated_data: 'certificate',
          ciphertext: aesGcmEncrypt(apiV3Key, nonce, 'certificate', c.pem),
        },
      };
    });
    // Tampered: a stranger's key, claiming the current certificate's serial.
    const stranger = { serial: signer.serial, privateKey: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
    answers.sendSigned(req, res, 200, { data }, tamper === 'signature' ? stranger : signer);
  });
  return r;
}

/** A new platform certificate, listed at once and signed with after `noticeMs` (WeChat's 24 hours, compressed). */
export async function rotateCertificate(s: SandboxState, o: { noticeMs?: number; validDays?: number } = {}): Promise<SandboxCertificate> {
  const now = s.now();
  const { pem, privateKeyPem } = await generatePlatformCertificate(s.keys.mchid, now, o.validDays ?? 5 * 365);
  const cert = sandboxCertificate(pem, privateKeyPem, now + (o.noticeMs ?? 0));
  s.certificates.push(cert);
  return cert;
}

/** Expires a certificate now (sandbox time): no longer listed, no longer signed with. */
export function expireCertificate(s: SandboxState, serial: string): SandboxCertificate | null {
  const c = s.certificates.find((x) => x.serial === serial.toUpperCase()) ?? null;
  if (c) c.expiredAt = s.now();
  return c;
}
