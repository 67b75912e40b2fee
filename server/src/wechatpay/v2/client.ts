// WeChat Pay API v2 client: XML over HTTPS, every request signed (MD5 or HMAC-SHA256 with the APIv2
// key), every SUCCESS answer's sign verified, both result levels (return_code, then result_code /
// err_code) turned into WechatPayError. Refunds go over mutual TLS with the merchant's certificate.
import http from 'node:http';
import https from 'node:https';
import { randomNonce } from '../crypto';
import { WechatPayError } from '../errors';
import { v2Sign, v2Verify, type V2Params, type V2SignType } from './sign';
import { buildV2Xml, parseV2Xml, type XmlFormatError } from './xml';
import { httpStream, type HttpStreamAnswer } from '../../wechat/http';

export interface V2ClientOptions {
  /** https://api.mch.weixin.qq.com */
  baseUrl: string;
  /** Where /secapi/pay/refund is called (the same host at WeChat). */
  refundBaseUrl: string;
  appid: string;
  mchid: string;
  apiKey: string;
  signType: V2SignType;
  /** The merchant API certificate and its key, for refunds (mutual TLS); `ca` only to trust a sandbox. */
  tls?: { cert: string; key: string; ca?: string };
  timeoutMs?: number;
}

export type V2Answer = Record<string, string>;

export interface WechatPayV2Client {
  unifiedOrder(params: V2Params): Promise<V2Answer>;
  /** null when WeChat Pay does not know the out_trade_no. */
  orderQuery(outTradeNo: string): Promise<V2Answer | null>;
  closeOrder(outTradeNo: string): Promise<void>;
  refund(params: V2Params): Promise<V2Answer>;
  /** null when WeChat Pay does not know the out_refund_no. */
  refundQuery(outRefundNo: string): Promise<V2Answer | null>;
  /** POST /pay/downloadbill (ALL, gzip) for `yyyyMMdd`: the file as a stream. A failure answers XML instead, turned into
   *  WechatPayError with code NO_BILL_EXIST, BILL_CREATING or what WeChat said. */
  downloadBill(billDate: string): Promise<AsyncIterable<Buffer>>;
}

/** v2 names a failed download by its message (and an `error_code`, not `err_code`). */
function billFailureCode(msg: string): string {
  if (/no\s*bill\s*exist/i.test(msg)) return 'NO_BILL_EXIST';
  if (/bill\s*creating/i.test(msg)) return 'BILL_CREATING';
  if (/sign/i.test(msg)) return 'SIGNERROR';
  return 'FAIL';
}

function post(url: URL, body: string, o: { timeoutMs: number; tls?: V2ClientOptions['tls'] }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'text/xml; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'wechat-pay-checkout/0.1 (node)',
        },
        timeout: o.timeoutMs,
        ...(o.tls && url.protocol === 'https:' ? { cert: o.tls.cert, key: o.tls.key, ...(o.tls.ca ? { ca: o.tls.ca } : {}) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export function createWechatPayV2Client(o: V2ClientOptions): WechatPayV2Client {
  const timeoutMs = o.timeoutMs ?? 10_000;

  async function call(path: string, params: V2Params, opts: { refund?: boolean } = {}): Promise<V2Answer> {
    const signed: V2Params = { ...params, appid: o.appid, mch_id: o.mchid, nonce_str: randomNonce(32), sign_type: o.signType };
    signed.sign = v2Sign(signed, o.apiKey, o.signType);
    let res: { status: number; text: string };
    try {
      res = await post(new URL(path, opts.refund ? o.refundBaseUrl : o.baseUrl), buildV2Xml(signed), {
        timeoutMs,
        tls: opts.refund ? o.tls : undefined,
      });
    } catch (err) {
      throw new WechatPayError('NETWORK', 'NETWORK', `WeChat Pay could not be reached (${(err as Error).message})`);
    }
    if (res.status >= 500) throw new WechatPayError('API', 'SYSTEMERROR', `WeChat Pay answered HTTP ${res.status}`, res.status);
    let a: V2Answer;
    try {
      a = parseV2Xml(res.text);
    } catch (err) {
      throw new WechatPayError(
        'UNTRUSTED',
        'MALFORMED_ANSWER',
        `WeChat Pay answered with something that is not its XML (${(err as XmlFormatError).message})`,
        res.status,
      );
    }
    if (a.return_code !== 'SUCCESS') {
      const msg = a.return_msg ?? '';
      throw new WechatPayError('API', /签名|sign/i.test(msg) ? 'SIGNERROR' : 'FAIL', msg || 'return_code FAIL', res.status);
    }
    // A SUCCESS answer is trusted only when signed with our key.
    if (!v2Verify(a, o.apiKey, o.signType))
      throw new WechatPayError('UNTRUSTED', 'BAD_SIGNATURE', "WeChat Pay's answer could not be trusted (bad sign)", res.status);
    if (a.result_code !== 'SUCCESS') {
      throw new WechatPayError('API', a.err_code || 'FAIL', a.err_code_des || a.err_code || 'result_code FAIL', res.status);
    }
    return a;
  }

  const orNull = async (p: Promise<V2Answer>) => {
    try {
      return await p;
    } catch (err) {
      if (err instanceof WechatPayError && err.isNotFound) return null;
      throw err;
    }
  };

  async function downloadBill(billDate: string): Promise<AsyncIterable<Buffer>> {
    const signed: V2Params = {
      appid: o.appid,
      mch_id: o.mchid,
      nonce_str: randomNonce(32),
      sign_type: o.signType,
      bill_date: billDate,
      bill_type: 'ALL',
      tar_type: 'GZIP',
    };
    signed.sign = v2Sign(signed, o.apiKey, o.signType);
    let res: HttpStreamAnswer;
    try {
      res = await httpStream(new URL('/pay/downloadbill', o.baseUrl), {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8', 'User-Agent': 'wechat-pay-checkout/0.1 (node)' },
        body: buildV2Xml(signed),
        timeoutMs,
      });
    } catch (err) {
      throw new WechatPayError('NETWORK', 'NETWORK', `WeChat Pay could not be reached (${(err as Error).message})`);
    }
    const it = res.body[Symbol.asyncIterator]();
    const first = await it.next();
    const head: Buffer = first.done ? Buffer.alloc(0) : first.value;
    // The file is gzip (1f 8b); an answer that starts with '<' is v2's XML failure.
    if (res.status !== 200 || head[0] === 0x3c) {
      let text = head.toString('utf8');
      for (let n = await it.next(); !n.done && text.length < 4096; n = await it.next()) text += n.value.toString('utf8');
      let msg = `HTTP ${res.status}`;
      try {
        const a = parseV2Xml(text);
        msg = a.return_msg || a.err_code || msg;
      } catch {
        // not XML: keep the status
      }
      throw new WechatPayError('API', billFailureCode(msg), `the bill download failed: ${msg}`, res.status);
    }
    return (async function* () {
      if (head.length) yield head;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    })();
  }

  return {
    downloadBill,
    unifiedOrder: (params) => call('/pay/unifiedorder', params),
    orderQuery: (outTradeNo) => orNull(call('/pay/orderquery', { out_trade_no: outTradeNo })),
    async closeOrder(outTradeNo) {
      try {
        await call('/pay/closeorder', { out_trade_no: outTradeNo });
      } catch (err) {
        // Closed already, or never created: closed is what was asked for.
        if (err instanceof WechatPayError && (err.isOrderClosed || err.isNotFound)) return;
        throw err;
      }
    },
    refund: async (params) => {
      if (!o.tls)
        throw new WechatPayError(
          'API',
          'CERT_MISSING',
          'v2 refunds need the merchant API certificate: set WECHATPAY_CERT_FILE and WECHATPAY_PRIVATE_KEY_FILE',
        );
      return call('/secapi/pay/refund', params, { refund: true });
    },
    refundQuery: (outRefundNo) => orNull(call('/pay/refundquery', { out_refund_no: outRefundNo })),
  };
}
