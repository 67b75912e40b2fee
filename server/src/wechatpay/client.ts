// WeChat Pay API v3 client: signed requests, verified responses, validated answers. Failures are
// WechatPayError; the library knows no orders.
import { httpCall, httpStream, type HttpAnswer, type HttpStreamAnswer } from '../wechat/http';
import { checkSignedMessage } from './signed-message';
import { WechatPayError } from './errors';
import { authorize, type Merchant } from './merchant';
import { refundSchema, type RefundOrder, type WechatRefund } from './refund';
import { transactionSchema, type Transaction } from './transaction';
import type { Verifier } from './verifier';
import type { SignedAnswer } from './certificates';

export type { Transaction };

/** The body of POST /v3/pay/transactions/jsapi, in WeChat's field names. */
export interface JsapiOrder {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  time_expire?: string;
  notify_url: string;
  amount: { total: number; currency: 'CNY' };
  payer: { openid: string };
}

export interface WechatPayClient {
  /** POST /v3/pay/transactions/jsapi with the exact body given; returns the prepay_id. */
  jsapiPrepay(body: string): Promise<string>;
  /** null when WeChat Pay does not know the out_trade_no. */
  queryByOutTradeNo(outTradeNo: string): Promise<Transaction | null>;
  close(outTradeNo: string): Promise<void>;
  /** POST /v3/refund/domestic/refunds; the answer means accepted, the outcome follows. */
  refund(order: RefundOrder): Promise<WechatRefund>;
  /** null when WeChat Pay does not know the out_refund_no. */
  queryRefund(outRefundNo: string): Promise<WechatRefund | null>;
  /** Any other v3 call: signed, its 2xx answer verified; WechatPayError otherwise. */
  signed(method: 'GET' | 'POST' | 'PUT' | 'DELETE', pathWithQuery: string, body: string): Promise<{ status: number; text: string }>;
  /** GET /v3/certificates, its answer as received (the list is verified with a certificate from itself: certificates.ts);
   *  NONE for a merchant that has only a WeChat Pay public key. */
  certificates(): Promise<{ kind: 'LIST'; answer: SignedAnswer } | { kind: 'NONE'; message: string }>;
  /** GET /v3/bill/tradebill (ALL, gzip): where to download the day's bill and its SHA-1. */
  tradeBill(date: string): Promise<BillLink>;
  /** GET download_url, signed; the answer is not (WeChat does not sign files): its body as a stream. */
  downloadBill(url: string): Promise<HttpStreamAnswer['body']>;
}

export interface BillLink {
  downloadUrl: string;
  hashType: string;
  hashValue: string;
}

export interface WechatPayClientOptions {
  baseUrl: string;
  merchant: Merchant;
  verifier: Verifier;
  now: () => number;
  timeoutMs?: number;
}

export function createWechatPayClient(opts: WechatPayClientOptions): WechatPayClient {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const { merchant, verifier } = opts;

  async function call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    pathWithQuery: string,
    body: string,
  ): Promise<{ status: number; text: string }> {
    let res: HttpAnswer;
    try {
      res = await httpCall(new URL(pathWithQuery, opts.baseUrl), {
        method,
        headers: {
          Authorization: await authorize(merchant, method, pathWithQuery, body, opts.now()),
          Accept: 'application/json',
          'Content-Type': 'application/json',
          'User-Agent': 'wechat-pay-checkout/0.1 (node)',
          'Wechatpay-Serial': verifier.preferredSerial,
        },
        body: method === 'POST' || method === 'PUT' ? body : undefined,
        timeoutMs,
      });
    } catch (err) {
      throw new WechatPayError('NETWORK', 'NETWORK', `WeChat Pay could not be reached (${(err as Error).name})`);
    }
    const { text } = res;
    const requestId = res.header('request-id');
    if (res.status >= 200 && res.status < 300) {
      const headers = {
        serial: res.header('wechatpay-serial'),
        signature: res.header('wechatpay-signature'),
        timestamp: res.header('wechatpay-timestamp'),
        nonce: res.header('wechatpay-nonce'),
      };
      let check = checkSignedMessage(verifier, headers, text, opts.now());
      // Signed by a certificate we do not hold yet (a rotation): fetch the list once, then check again.
      if (!check.ok && check.problem === 'UNKNOWN_SERIAL' && headers.serial && (await verifier.refreshFor?.(headers.serial)))
        check = checkSignedMessage(verifier, headers, text, opts.now());
      if (!check.ok)
        throw new WechatPayError(
          'UNTRUSTED',
          check.problem,
          `WeChat Pay's answer could not be trusted (${check.message})`,
          res.status,
          requestId,
        );
      return { status: res.status, text };
    }
    let code = 'UNKNOWN';
    let message = '';
    try {
      const parsed = JSON.parse(text) as { code?: string; message?: string };
      code = parsed.code ?? code;
      message = parsed.message ?? '';
    } catch {
      // an error page that is not JSON: keep UNKNOWN
    }
    throw new WechatPayError('API', code, message || `WeChat Pay answered ${res.status}`, res.status, requestId);
  }

  const json = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      throw new WechatPayError('UNTRUSTED', 'MALFORMED_ANSWER', 'WeChat Pay answered with something that is not JSON');
    }
  };

  const validRefund = (text: string): WechatRefund => {
    const parsed = refundSchema.safeParse(json(text));
    if (!parsed.success)
      throw new WechatPayError('UNTRUSTED', 'MALFORMED_ANSWER', 'WeChat Pay answered a refund call with something that is not a refund');
    return parsed.data;
  };

  return {
    async jsapiPrepay(body) {
      const { text } = await call('POST', '/v3/pay/transactions/jsapi', body);
      const prepayId = (json(text) as { prepay_id?: unknown } | null)?.prepay_id;
      if (typeof prepayId !== 'string' || !prepayId)
        throw new WechatPayError('UNTRUSTED', 'MALFORMED_ANSWER', 'WeChat Pay returned no prepay_id');
      return prepayId;
    },
    async queryByOutTradeNo(outTradeNo) {
      const path = `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}?mchid=${encodeURIComponent(merchant.mchid)}`;
      try {
        const { text } = await call('GET', path, '');
        const parsed = transactionSchema.safeParse(json(text));
        if (!parsed.success)
          throw new WechatPayError('UNTRUSTED', 'MALFORMED_ANSWER', 'WeChat Pay answered a query with something that is not a transaction');
        return parsed.data;
      } catch (err) {
        if (err instanceof WechatPayError && err.httpStatus === 404 && err.isNotFound) return null;
        throw err;
      }
    },
    async refund(order) {
      const { text } = await call('POST', '/v3/refund/domestic/refunds', JSON.stringify(order));
      return validRefund(text);
    },
    async queryRefund(outRefundNo) {
      try {
        const { text } = await call('GET', `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`, '');
        return validRefund(text);
      } catch (err) {
        if (err instanceof WechatPayError && err.httpStatus === 404 && err.isNotFound) return null;
        throw err;
      }
    },
    signed: (method, pathWithQuery, body) => call(method, pathWithQuery, body),
    async certificates() {
      const pathWithQuery = '/v3/certificates';
      let res: HttpAnswer;
      try {
        res = await httpCall(new URL(pathWithQuery, opts.baseUrl), {
          method: 'GET',
          headers: {
            Authorization: await authorize(merchant, 'GET', pathWithQuery, '', opts.now()),
            Accept: 'application/json',
            'User-Agent': 'wechat-pay-checkout/0.1 (node)',
          },
          timeoutMs,
        });
      } catch (err) {
        throw new WechatPayError('NETWORK', 'NETWORK', `WeChat Pay could not be reached (${(err as Error).name})`);
      }
      if (res.status === 200)
        return {
          kind: 'LIST',
          answer: {
            body: res.text,
            serial: res.header('wechatpay-serial'),
            signature: res.header('wechatpay-signature'),
            timestamp: res.header('wechatpay-timestamp'),
            nonce: res.header('wechatpay-nonce'),
          },
        };
      let code = 'UNKNOWN';
      let message = `WeChat Pay answered ${res.status}`;
      try {
        const e = JSON.parse(res.text) as { code?: string; message?: string };
        code = e.code ?? code;
        message = e.message ?? message;
      } catch {
        // not JSON
      }
      if (code === 'RESOURCE_NOT_EXISTS') return { kind: 'NONE', message };
      throw new WechatPayError('API', code, message, res.status, res.header('request-id'));
    },
    async tradeBill(date) {
      const { text } = await call('GET', `/v3/bill/tradebill?bill_date=${encodeURIComponent(date)}&bill_type=ALL&tar_type=GZIP`, '');
      const b = json(text) as { download_url?: unknown; hash_type?: unknown; hash_value?: unknown } | null;
      if (typeof b?.download_url !== 'string' || typeof b.hash_value !== 'string' || b.hash_type !== 'SHA1')
        throw new WechatPayError(
          'UNTRUSTED',
          'MALFORMED_ANSWER',
          'WeChat Pay answered a bill request without a download_url and SHA1 hash',
        );
      return { downloadUrl: b.download_url, hashType: b.hash_type, hashValue: b.hash_value };
    },
    async downloadBill(url) {
      const target = new URL(url);
      // The link is opaque and signed over its path and query; it must lead to the API we were configured with.
      if (target.origin !== new URL(opts.baseUrl).origin)
        throw new WechatPayError(
          'UNTRUSTED',
          'MALFORMED_ANSWER',
          `the bill's download_url leads to ${target.origin}, not WeChat Pay's API`,
        );
      const pathWithQuery = target.pathname + target.search;
      let res: HttpStreamAnswer;
      try {
        res = await httpStream(target, {
          method: 'GET',
          headers: {
            Authorization: await authorize(merchant, 'GET', pathWithQuery, '', opts.now()),
            Accept: '*/*',
            'User-Agent': 'wechat-pay-checkout/0.1 (node)',
          },
          timeoutMs,
        });
      } catch (err) {
        throw new WechatPayError('NETWORK', 'NETWORK', `WeChat Pay could not be reached (${(err as Error).name})`);
      }
      if (res.status !== 200) {
        let text = '';
        for await (const chunk of res.body) if (text.length < 4096) text += chunk.toString('utf8');
        let code = 'UNKNOWN';
        try {
          code = (JSON.parse(text) as { code?: string }).code ?? code;
        } catch {
          // an nginx page: keep UNKNOWN
        }
        throw new WechatPayError('API', code, `the bill download answered ${res.status} ${code}`, res.status, res.header('request-id'));
      }
      return res.body;
    },
    async close(outTradeNo) {
      await call(
        'POST',
        `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}/close`,
        JSON.stringify({ mchid: merchant.mchid }),
      );
    },
  };
}
