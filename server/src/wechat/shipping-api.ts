// WeChat's order shipping-info API (发货信息管理, shipping.md §3): every call is a POST with the
// access_token in the query and JSON in and out, errors as HTTP 200 with an errcode. The token comes
// from access-token.ts, which refreshes it once when WeChat says it is stale.
import { httpCall } from './http';
import { createAccessTokens, WechatApiError, type AccessTokens, type WechatAnswer } from './access-token';

export interface ShippingItem {
  tracking_no?: string;
  express_company?: string;
  item_desc: string;
  contact?: { consignor_contact?: string; receiver_contact?: string };
}

export interface UploadShippingInfo {
  order_key: { order_number_type: 1; mchid: string; out_trade_no: string } | { order_number_type: 2; transaction_id: string };
  /** 1 express, 2 same-city, 3 virtual goods, 4 self-pickup. */
  logistics_type: 1 | 2 | 3 | 4;
  /** 1 unified (one package), 2 split. */
  delivery_mode: 1 | 2;
  is_all_delivered?: boolean;
  shipping_list: ShippingItem[];
  /** RFC 3339 with offset. */
  upload_time: string;
  payer: { openid: string };
}

/** WeChat's order_state, by name (shipping.md §3.3). */
export const ORDER_STATE = { TO_SHIP: 1, SHIPPED: 2, CONFIRMED: 3, COMPLETED: 4, REFUNDED: 5, AWAITING_SETTLEMENT: 6 } as const;
export type OrderState = (typeof ORDER_STATE)[keyof typeof ORDER_STATE];

/** get_order's `order`, as far as we read it. */
export interface WechatShippingOrder {
  transaction_id: string;
  merchant_id: string;
  merchant_trade_no: string;
  /** ORDER_STATE: 1 to ship, 2 shipped, 3 receipt confirmed, 4 completed, 5 refunded, 6 awaiting settlement. */
  order_state: number;
  in_complaint?: boolean;
  shipping?: {
    finish_shipping?: boolean;
    finish_shipping_count?: number;
    shipping_list?: { tracking_no?: string; express_company?: string; goods_desc?: string; upload_time?: number }[];
  };
}

export interface ShippingApi {
  /** Any other mini-program API call (POST, JSON, the access token in the query); WechatApiError on an errcode. */
  request(path: string, body: unknown): Promise<WechatAnswer>;
  /** The same for a GET API (the template list). */
  get(path: string): Promise<WechatAnswer>;
  upload(info: UploadShippingInfo): Promise<void>;
  getOrder(mchid: string, outTradeNo: string): Promise<WechatShippingOrder>;
  deliveryList(): Promise<{ delivery_id: string; delivery_name: string }[]>;
  setMsgJumpPath(path: string): Promise<void>;
  tokens: AccessTokens;
}

export interface ShippingApiOptions {
  baseUrl: string;
  appid: string;
  appSecret: string;
  now?: () => number;
  timeoutMs?: number;
}

export function createShippingApi(o: ShippingApiOptions): ShippingApi {
  const tokens = createAccessTokens(o);
  const post = async (path: string, token: string, body: unknown): Promise<WechatAnswer> => {
    const url = new URL(path, o.baseUrl);
    url.searchParams.set('access_token', token);
    try {
      const res = await httpCall(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        timeoutMs: o.timeoutMs ?? 8000,
      });
      if (res.status >= 500) throw new WechatApiError(null, `${path} answered HTTP ${res.status}`);
      return JSON.parse(res.text) as WechatAnswer;
    } catch (err) {
      if (err instanceof WechatApiError) throw err;
      // Never the URL: it carries the token.
      throw new WechatApiError(null, `${path} could not be reached (${(err as Error).name})`);
    }
  };
  const call = async (path: string, body: unknown): Promise<WechatAnswer> => {
    const answer = await tokens.call((token) => post(path, token, body));
    if (answer.errcode)
      throw new WechatApiError(
        answer.errcode,
        `${path}: ${answer.errcode} ${String(answer.errmsg ?? '')
          .replace(/access_token=\S+/g, 'access_token=…')
          .slice(0, 200)}`,
      );
    return answer;
  };
  const getOnce = async (path: string, token: string): Promise<WechatAnswer> => {
    const url = new URL(path, o.baseUrl);
    url.searchParams.set('access_token', token);
    try {
      const res = await httpCall(url, { method: 'GET', timeoutMs: o.timeoutMs ?? 8000 });
      if (res.status >= 500) throw new WechatApiError(null, `${path} answered HTTP ${res.status}`);
      return JSON.parse(res.text) as WechatAnswer;
    } catch (err) {
      if (err instanceof WechatApiError) throw err;
      throw new WechatApiError(null, `${path} could not be reached (${(err as Error).name})`);
    }
  };
  return {
    tokens,
    request: call,
    async get(path) {
      const answer = await tokens.call((token) => getOnce(path, token));
      if (answer.errcode)
        throw new WechatApiError(answer.errcode, `${path}: ${answer.errcode} ${String(answer.errmsg ?? '').slice(0, 200)}`);
      return answer;
    },
    async upload(info) {
      await call('/wxa/sec/order/upload_shipping_info', info);
    },
    async getOrder(mchid, outTradeNo) {
      const a = await call('/wxa/sec/order/get_order', { merchant_id: mchid, merchant_trade_no: outTradeNo });
      return a.order as WechatShippingOrder;
    },
    async deliveryList() {
      const a = await call('/cgi-bin/express/delivery/open_msg/get_delivery_list', {});
      return (a.delivery_list as { delivery_id: string; delivery_name: string }[]) ?? [];
    },
    async setMsgJumpPath(path) {
      await call('/wxa/sec/order/set_msg_jump_path', { path });
    },
  };
}
