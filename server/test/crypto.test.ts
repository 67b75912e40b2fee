// The crypto against the published test vectors (copied from ../shared/wechat into fixtures/).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  formatAuthorization,
  loadPrivateKey,
  loadPublicKey,
  parseAuthorization,
  paySignMessage,
  requestMessage,
  responseMessage,
  rsaSign,
  rsaVerify,
} from '../src/wechatpay/crypto';
import { createVerifier } from '../src/wechatpay/verifier';
import { parseNotification, type NotificationRejected } from '../src/wechatpay/notification';
import { signRequestPayment } from '../src/wechatpay/merchant';

const dir = path.join(__dirname, 'fixtures/wechat');
const V = JSON.parse(fs.readFileSync(path.join(dir, 'test-vectors.json'), 'utf8'));
const keyPem = fs.readFileSync(path.join(dir, 'wechatpay-go-test-private-key.pem'), 'utf8');
const certPem = fs.readFileSync(path.join(dir, 'wechatpay-go-test-cert-D7CE59D1F522D701.pem'), 'utf8');
const pubPem = fs.readFileSync(path.join(dir, 'wechatpay-go-test-public-key.pem'), 'utf8');
const key = loadPrivateKey(keyPem);
const certKey = loadPublicKey(certPem);
const sdk = Object.fromEntries((V.sdk_vectors as { name: string }[]).map((v) => [v.name, v as any]));
const S = V.self_vectors;

describe('RSA-SHA256 signatures', () => {
  it('reproduces the wechatpay-go signature of "source"', () => {
    expect(rsaSign(key, sdk.rsa_sha256_sign_source.message)).toBe(sdk.rsa_sha256_sign_source.signature_b64);
    expect(rsaVerify(certKey, 'source', sdk.rsa_sha256_sign_source.signature_b64)).toBe(true);
  });

  it('builds the five-line request message and its Authorization header', () => {
    const r = S.v3_request;
    const msg = requestMessage(r.method, r.url_path, String(r.timestamp), r.nonce, r.body);
    expect(msg).toBe(r.message);
    const signature = rsaSign(key, msg);
    expect(signature).toBe(r.signature);
    const header = formatAuthorization({
      mchid: '1230000109',
      nonce_str: r.nonce,
      timestamp: String(r.timestamp),
      serial_no: S.merchant_cert_serial_used,
      signature,
    });
    expect(header).toBe(r.authorization);
    expect(parseAuthorization(header)).toEqual({
      mchid: '1230000109',
      nonce_str: r.nonce,
      timestamp: String(r.timestamp),
      serial_no: 'F5765756002FDD77',
      signature,
    });
  });

  it('keeps the empty body line for GET, as wechatpay-go does', () => {
    const g = sdk.authorization_header_shape_go;
    expect(requestMessage(g.input.method, g.input.url, String(g.input.timestamp), g.input.nonce, '')).toBe(g.message);
    expect(rsaSign(key, S.v3_request_get.message)).toBe(S.v3_request_get.signature);
  });

  it('signs paySign over appId, timeStamp, nonceStr and package', () => {
    const p = S.pay_sign;
    expect(paySignMessage(p.appId, p.timeStamp, p.nonceStr, p.package)).toBe(p.message);
    expect(rsaSign(key, p.message)).toBe(p.paySign);
  });

  it('signs the five wx.requestPayment fields the way WeChat verifies them', async () => {
    const m = {
      appid: 'wx8888888888888888',
      mchid: '1230000109',
      certSerial: 'F5765756002FDD77',
      privateKey: key,
      apiV3Key: 'x'.repeat(32),
      notifyUrl: 'https://example.com/n',
    };
    const params = await signRequestPayment(m, 'wx201410272009395522657a690389285100', 1414561699_000);
    expect(params.timeStamp).toBe('1414561699');
    expect(params.package).toBe('prepay_id=wx201410272009395522657a690389285100');
    expect(params.signType).toBe('RSA');
    expect(
      rsaVerify(loadPublicKey(pubPem), paySignMessage(m.appid, params.timeStamp, params.nonceStr, params.package), params.paySign),
    ).toBe(true);
  });

  it('verifies the published response signatures, including an empty 204 body', () => {
    expect(rsaVerify(certKey, S.response_204.message, S.response_204.signature)).toBe(true);
    expect(rsaVerify(certKey, S.response_prepay.message, S.response_prepay.signature)).toBe(true);
    expect(responseMessage('1624523846', 'EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz', '')).toBe(S.response_204.message);
  });

  it('refuses tampered messages and non-base64 probe signatures without throwing', () => {
    expect(rsaVerify(certKey, S.response_prepay.message.replace('wx2014', 'wx2015'), S.response_prepay.signature)).toBe(false);
    expect(rsaVerify(certKey, S.response_prepay.message, 'WECHATPAY/SIGNTEST/abc')).toBe(false);
    expect(rsaVerify(certKey, S.response_prepay.message, '')).toBe(false);
  });

  it('rejects malformed Authorization headers', () => {
    expect(parseAuthorization(undefined)).toBeNull();
    expect(parseAuthorization('Bearer x')).toBeNull();
    expect(parseAuthorization('WECHATPAY2-SHA256-RSA2048 mchid="1"')).toBeNull();
    expect(parseAuthorization('WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="a",timestamp="1",serial_no="a",signature="a"')).toBeNull();
  });
});

describe('AEAD_AES_256_GCM', () => {
  it('decrypts the wechatpay-java vector and the certificate download vector', () => {
    const a = sdk.aes_256_gcm_java;
    expect(aesGcmDecrypt(a.key_utf8, a.nonce_utf8, a.aad_utf8, a.ciphertext_b64)).toBe(a.plaintext);
    expect(aesGcmEncrypt(a.key_utf8, a.nonce_utf8, a.aad_utf8, a.plaintext)).toBe(a.ciphertext_b64);
    const c = sdk.certificates_download_decrypt_java;
    const pem = aesGcmDecrypt(c.key_utf8, c.nonce_utf8, c.aad_utf8, c.ciphertext_b64);
    expect(new crypto.X509Certificate(pem).serialNumber).toBe(c.expect.serial_no);
  });

  it('decrypts the 16-byte-key vectors of wechatpay-go with AES-128', () => {
    const g = sdk.aes_gcm_go_util_AES128;
    expect(aesGcmDecrypt(g.key_utf8, g.nonce_utf8, g.aad_utf8, g.ciphertext_b64)).toBe(g.plaintext);
  });

  it('authenticates: a wrong key, AAD or a flipped bit throws', () => {
    const a = sdk.aes_256_gcm_java;
    expect(() => aesGcmDecrypt('b'.repeat(32), a.nonce_utf8, a.aad_utf8, a.ciphertext_b64)).toThrow();
    expect(() => aesGcmDecrypt(a.key_utf8, a.nonce_utf8, 'other', a.ciphertext_b64)).toThrow();
    const buf = Buffer.from(a.ciphertext_b64, 'base64');
    buf[0]! ^= 1;
    expect(() => aesGcmDecrypt(a.key_utf8, a.nonce_utf8, a.aad_utf8, buf.toString('base64'))).toThrow();
    expect(() => aesGcmDecrypt('short', a.nonce_utf8, a.aad_utf8, a.ciphertext_b64)).toThrow(/32 bytes/);
  });
});

describe('notification pipeline against the published notifications', () => {
  const n = S.notification;
  const headers = {
    serial: n.headers['Wechatpay-Serial'],
    signature: n.headers['Wechatpay-Signature'],
    timestamp: n.headers['Wechatpay-Timestamp'],
    nonce: n.headers['Wechatpay-Nonce'],
    signatureType: n.headers['Wechatpay-Signature-Type'],
  };
  const certVerifier = createVerifier({ platformCerts: [certPem] });
  const at = (s: number) => () => s * 1000;

  it('verifies and decrypts the TRANSACTION.SUCCESS vector in platform-certificate mode', () => {
    const v = parseNotification({ verifier: certVerifier, apiV3Key: n.apiv3_key, nowMs: at(1624523846) }, headers, Buffer.from(n.body));
    expect(v.id).toBe('EV-2018022511223320873');
    expect(v.eventType).toBe('TRANSACTION.SUCCESS');
    expect(v.transaction).toMatchObject({
      out_trade_no: '1217752501201407033233368018',
      trade_state: 'SUCCESS',
      amount: { total: 100, currency: 'CNY' },
    });
  });

  it('verifies the same signature in public-key mode and in combined mode', () => {
    const pk = createVerifier({ publicKey: { id: 'D7CE59D1F522D701', pem: pubPem } });
    expect(parseNotification({ verifier: pk, apiV3Key: n.apiv3_key, nowMs: at(1624523846) }, headers, Buffer.from(n.body)).id).toBe(
      'EV-2018022511223320873',
    );
    const both = createVerifier({
      publicKey: { id: 'PUB_KEY_ID_0000000000000024101100397200000006', pem: pubPem },
      platformCerts: [certPem],
    });
    expect(both.preferredSerial).toBe('PUB_KEY_ID_0000000000000024101100397200000006');
    expect(parseNotification({ verifier: both, apiV3Key: n.apiv3_key, nowMs: at(1624523846) }, headers, Buffer.from(n.body)).id).toBe(
      'EV-2018022511223320873',
    );
  });

  it('verifies the wechatpay-go notification (AES-128 key) and treats a non-transaction event as such', () => {
    const g = sdk.notification_go_AES128;
    const v = parseNotification(
      { verifier: certVerifier, apiV3Key: g.apiv3_key_utf8, nowMs: at(1624523846) },
      {
        serial: g.headers['Wechatpay-Serial'],
        signature: g.headers['Wechatpay-Signature'],
        timestamp: g.headers['Wechatpay-Timestamp'],
        nonce: g.headers['Wechatpay-Nonce'],
      },
      Buffer.from(g.body),
    );
    expect(v.eventType).toBe('PAYSCORE.USER_OPEN_SERVICE');
    expect(v.transaction).toBeNull();
  });

  it('refuses the vector five minutes later, and with one byte of whitespace added', () => {
    const reason = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as NotificationRejected).reason;
      }
      return 'accepted';
    };
    expect(
      reason(() =>
        parseNotification({ verifier: certVerifier, apiV3Key: n.apiv3_key, nowMs: at(1624523846 + 300) }, headers, Buffer.from(n.body)),
      ),
    ).toBe('STALE_TIMESTAMP');
    expect(
      reason(() =>
        parseNotification({ verifier: certVerifier, apiV3Key: n.apiv3_key, nowMs: at(1624523846) }, headers, Buffer.from(`${n.body} `)),
      ),
    ).toBe('BAD_SIGNATURE');
  });
});

describe('WeChat Pay API v2', () => {
  it('reproduces the published MD5 and HMAC-SHA256 signatures and the string they sign', async () => {
    const { v2Sign, v2StringToSign, v2Verify } = await import('../src/wechatpay/v2/sign');
    const md5 = sdk.v2_sign_md5;
    expect(v2StringToSign(md5.params, md5.key)).toBe(md5.string_to_hash);
    expect(v2Sign(md5.params, md5.key, 'MD5')).toBe(md5.sign);
    expect(v2Sign(md5.params, sdk.v2_sign_hmac_sha256.key, 'HMAC-SHA256')).toBe(sdk.v2_sign_hmac_sha256.sign);
    expect(v2Verify({ ...md5.params, sign: md5.sign }, md5.key, 'MD5')).toBe(true);
    expect(v2Verify({ ...md5.params, body: 'tampered', sign: md5.sign }, md5.key, 'MD5')).toBe(false);
    // Empty values and `sign` itself are left out; `sign_type` is signed when present.
    expect(v2StringToSign({ ...md5.params, empty: '', sign: 'X' }, md5.key)).toBe(md5.string_to_hash);
  });

  it('reproduces the published mini-program paySign (appId, nonceStr, package, signType, timeStamp)', async () => {
    const { v2Sign } = await import('../src/wechatpay/v2/sign');
    const v = sdk.v2_paysign_md5_miniprogram;
    expect(v2Sign(v.params, v.key, 'MD5')).toBe(v.paySign);
  });

  it('decrypts the refund notification req_info vector (AES-256-ECB, key = hex MD5 of the APIv2 key)', async () => {
    const { decryptReqInfo, encryptReqInfo } = await import('../src/wechatpay/v2/sign');
    const r = S.v2_refund_req_info_aes256ecb;
    expect(crypto.createHash('md5').update(r.apiKey).digest('hex')).toBe(r.aesKey);
    expect(decryptReqInfo(r.req_info, r.apiKey)).toBe(r.plaintext);
    expect(encryptReqInfo(r.plaintext, r.apiKey)).toBe(r.req_info);
    expect(() => decryptReqInfo(r.req_info, 'x'.repeat(32))).toThrow();
  });

  it('reads and writes the XML safely: CDATA, no DOCTYPE, no nested elements', async () => {
    const { buildV2Xml, parseV2Xml, XmlFormatError } = await import('../src/wechatpay/v2/xml');
    const xml = buildV2Xml({ body: '马克杯 <b>&"x"', total_fee: 9000 });
    expect(xml).toBe('<xml><body><![CDATA[马克杯 <b>&"x"]]></body><total_fee><![CDATA[9000]]></total_fee></xml>');
    expect(parseV2Xml(xml)).toEqual({ body: '马克杯 <b>&"x"', total_fee: '9000' });
    expect(parseV2Xml('<xml><total_fee>0100</total_fee></xml>')).toEqual({ total_fee: '0100' }); // strings stay strings
    expect(() => parseV2Xml('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>')).toThrow(XmlFormatError);
    expect(() => parseV2Xml('<xml><a><b>1</b></a></xml>')).toThrow(/not text/);
    expect(() => parseV2Xml('<notxml/>')).toThrow(/no <xml>/);
    expect(() => buildV2Xml({ a: 'x]]>y' })).toThrow(/\]\]>/);
  });
});
