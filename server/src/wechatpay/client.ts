// WeChat Pay API v3 client: signed requests, verified responses, errors mapped to AppError.
import { AppError } from '../domain/errors';
import { responseMessage } from './crypto';
import { authorize, type Clock, type Merchant } from './merchant';
import type { Verifier } from './verifier';

export interface Transaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_type?: string;
  trade_state: string;
  trade_state_desc?: string;
  success_time?: string;
  payer?: { openid?: string };
  amount?: { total?: number; payer_total?: number; currency?: string; payer_currency?: string };
}

export interface WechatPayClient {
  /** POST /v3/pay/transactions/jsapi with the exact body given; returns the prepay_id. */
  jsapiPrepay(body: string): Promise<string>;
  /** null when WeChat Pay does not know the out_trade_no. */
  queryByOutTradeNo(outTradeNo: string): Promise<Transaction | null>;
  close(outTradeNo: string): Promise<void>;
}

export interface WechatPayClientOptions {
  baseUrl: string;
  merchant: Merchant;
  verifier: Verifier;
  clock: Clock;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Codes that mean "try again with the same parameters"; everything else is a refusal. */
const RETRYABLE = /^(SYSTEM_?ERROR|FREQUENCY_LIMITED|RATELIMIT_EXCEEDED|SERVICE_UNAVAILABLE|BANKERROR|UNKNOWN)$/;

export class WechatPayApiError extends AppError {
  constructor(
    readonly httpStatus: number,
    readonly wechatCode: string,
    message: string,
    /** WeChat's Request-ID for this call: what WeChat support asks for. */
    readonly requestId: string | null = null,
  ) {
    const busy = httpStatus === 429 || httpStatus === 502 || httpStatus === 503 || (RETRYABLE.test(wechatCode) && httpStatus >= 500) || /FREQUENCY|RATELIMIT/.test(wechatCode);
    super(
      busy ? 'WECHATPAY_BUSY' : 'WECHATPAY_REJECTED',
      busy ? 'WeChat Pay is busy; the order is saved and can be paid again shortly' : `WeChat Pay refused the request (${wechatCode})`,
      { wechatCode, wechatMessage: message, requestId },
    );
  }
}

const MAX_SKEW_S = 300;

export function createWechatPayClient(opts: WechatPayClientOptions): WechatPayClient {
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const { merchant, verifier, clock } = opts;

  async function call(method: 'GET' | 'POST', pathWithQuery: string, body: string): Promise<{ status: number; text: string }> {
    let res: Response;
    try {
      res = await doFetch(new URL(pathWithQuery, opts.baseUrl), {
        method,
        headers: {
          Authorization: authorize(merchant, method, pathWithQuery, body, clock.now()),
          Accept: 'application/json',
          'Content-Type': 'application/json',
          'User-Agent': 'wechat-pay-checkout/0.1 (node)',
          'Wechatpay-Serial': verifier.preferredSerial,
        },
        body: method === 'POST' ? body : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new AppError('WECHATPAY_UNREACHABLE', 'WeChat Pay could not be reached; the order is saved and can be paid again', {
        cause: (err as Error).name,
      });
    }
    const text = await res.text();
    if (res.status >= 200 && res.status < 300) {
      verifyResponse(res.headers, text);
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
    if (res.status === 404 && /ORDER_?NOT_?EXIST|RESOURCE_NOT_EXISTS/.test(code)) return { status: 404, text };
    throw new WechatPayApiError(res.status, code, message, res.headers.get('request-id'));
  }

  /** Only trusted when signed by a key we know, fresh, and over the exact bytes received. */
  function verifyResponse(headers: Headers, body: string): void {
    const ts = headers.get('wechatpay-timestamp');
    const nonce = headers.get('wechatpay-nonce');
    const sig = headers.get('wechatpay-signature');
    const serial = headers.get('wechatpay-serial');
    const fail = (why: string) => {
      throw new AppError('WECHATPAY_UNREACHABLE', `WeChat Pay's answer could not be trusted (${why})`);
    };
    if (!ts || !nonce || !sig || !serial) fail('unsigned response');
    if (Math.abs(clock.now() / 1000 - Number(ts)) >= MAX_SKEW_S) fail('stale response timestamp');
    if (!verifier.verify(serial!, responseMessage(ts!, nonce!, body), sig!)) fail('bad response signature');
  }

  return {
    async jsapiPrepay(body) {
      const { text } = await call('POST', '/v3/pay/transactions/jsapi', body);
      const prepayId = (JSON.parse(text) as { prepay_id?: unknown }).prepay_id;
      if (typeof prepayId !== 'string' || !prepayId) throw new AppError('WECHATPAY_UNREACHABLE', 'WeChat Pay returned no prepay_id');
      return prepayId;
    },
    async queryByOutTradeNo(outTradeNo) {
      const path = `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}?mchid=${encodeURIComponent(merchant.mchid)}`;
      const { status, text } = await call('GET', path, '');
      return status === 404 ? null : (JSON.parse(text) as Transaction);
    },
    async close(outTradeNo) {
      await call('POST', `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}/close`, JSON.stringify({ mchid: merchant.mchid }));
    },
  };
}
