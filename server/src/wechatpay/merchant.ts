// The merchant's side of WeChat Pay v3: identity and the private key, parsed once at boot.
import type { KeyObject } from 'node:crypto';
import { formatAuthorization, paySignMessage, randomNonce, requestMessage, rsaSignAsync } from './crypto';
import { unixSeconds } from './time';

export interface Merchant {
  appid: string;
  mchid: string;
  certSerial: string;
  privateKey: KeyObject;
  apiV3Key: string;
  notifyUrl: string;
}

/** The Authorization header for one request; `body` is the exact bytes that will be sent. */
export async function authorize(m: Merchant, method: string, pathWithQuery: string, body: string, nowMs: number): Promise<string> {
  const timestamp = unixSeconds(nowMs);
  const nonce = randomNonce(32);
  const signature = await rsaSignAsync(m.privateKey, requestMessage(method, pathWithQuery, timestamp, nonce, body));
  return formatAuthorization({ mchid: m.mchid, nonce_str: nonce, timestamp, serial_no: m.certSerial, signature });
}

/** The five fields wx.requestPayment takes, in the names it takes them. */
export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export async function signRequestPayment(m: Merchant, prepayId: string, nowMs: number): Promise<RequestPaymentParams> {
  const timeStamp = unixSeconds(nowMs);
  const nonceStr = randomNonce(32);
  const pkg = `prepay_id=${prepayId}`;
  return {
    timeStamp,
    nonceStr,
    package: pkg,
    signType: 'RSA',
    paySign: await rsaSignAsync(m.privateKey, paySignMessage(m.appid, timeStamp, nonceStr, pkg)),
  };
}
