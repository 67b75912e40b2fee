// The sandbox's api.weixin.qq.com beyond login (shipping.md §2–7): access tokens (/cgi-bin/token and
// /cgi-bin/stable_token with their rotation rules), the order shipping-info API with its validation
// and order-state machine, the delivery list, signed and encrypted message pushes to the merchant, and
// a stand-in for the confirm-receipt component. It knows which orders were paid: it took the payments.
// Choices where WeChat's behaviour is unconfirmed are marked "choice:" and listed in README.
import crypto from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { encryptMessage, pushSignature, aesKeyOf } from '../server/src/wechat/message-crypto';
import { current, type SandboxOrder, type SandboxState } from './state';

const TOKEN_TTL_S = 7200;
const OVERLAP_MS = 5 * 60_000;
/** WeChat's carriers, as get_delivery_list names them (a subset; the real list has ~1,400). */
export const DELIVERY_LIST = [
  { delivery_id: 'SF', delivery_name: '顺丰速运' },
  { delivery_id: 'YTO', delivery_name: '圆通速递' },
  { delivery_id: 'ZTO', delivery_name: '中通快递' },
  { delivery_id: 'STO', delivery_name: '申通快递' },
  { delivery_id: 'YD', delivery_name: '韵达速递' },
  { delivery_id: 'JTSD', delivery_name: '极兔速递' },
  { delivery_id: 'EMS', delivery_name: 'EMS' },
  { delivery_id: 'JD', delivery_name: '京东快递' },
  { delivery_id: 'DHL', delivery_name: 'DHL' },
];
const CARRIERS = new Set(DELIVERY_LIST.map((d) => d.delivery_id));
/** The confirm-receipt component's appId, as App.onShow's referrerInfo names it. */
export const CONFIRM_COMPONENT_APPID = 'wx1183b055aeec94d1';

interface Token {
  value: string;
  expiresAt: number;
  /** When a rotation replaced it: still valid for 5 minutes after. */
  replacedAt: number | null;
}

export interface ShippingPackage {
  tracking_no?: string;
  express_company?: string;
  goods_desc: string;
  upload_time: number;
  contact?: { consignor_contact?: string; receiver_contact?: string };
}

export interface ShippingOrder {
  transactionId: string;
  outTradeNo: string;
  openid: string;
  amount: number;
  payTime: number;
  /** 1 to ship, 2 shipped, 3 receipt confirmed, 4 completed, 5 refunded, 6 awaiting settlement. */
  state: number;
  logisticsType: number | null;
  deliveryMode: number | null;
  finishCount: number;
  packages: ShippingPackage[];
  lastUploadTime: number;
  /** The last accepted upload, canonical: an identical one changes nothing (10060023). */
  lastUpload: string | null;
  shippedAt: number | null;
  reminded: boolean;
  confirmTimer: NodeJS.Timeout | null;
  /** Every accepted upload's body, exactly as received. */
  uploads: Record<string, unknown>[];
}

export interface PushRecord {
  event: string;
  url: string;
  body: Record<string, unknown>;
  attempts: number;
  status: 'delivered' | 'failed' | 'dropped';
}

export interface ShippingControls {
  /** The next `times` upload_shipping_info calls answer this errcode (e.g. -1, system busy). */
  failShippingUploads: { errcode: number; times: number } | null;
  /** Message pushes from now on that are never sent (a count). */
  dropMessagePushes: number;
  /** After shipping, the platform confirms receipt for the shopper after this many seconds (× timeScale).
   *  choice: WeChat's T+10 days (express) / T+2 (others) is unconfirmed; 0 turns the timer off. */
  autoConfirmSeconds: number;
}

export const DEFAULT_SHIPPING_CONTROLS: ShippingControls = {
  failShippingUploads: null,
  dropMessagePushes: 0,
  autoConfirmSeconds: 10 * 86_400,
};

export interface ShippingSandbox {
  routes: Router;
  /** Loopback-only stand-ins and switches, mounted under /sandbox. */
  controlRoutes: Router;
  controls: ShippingControls;
  orders: Map<string, ShippingOrder>;
  pushes: PushRecord[];
  jumpPath(): string | null;
  /** Every token issued so far expires now (42001 on the next business call). */
  expireTokens(): void;
  tokensIssued(): number;
  stop(): void;
}

const rid = () =>
  `${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}`;
const answer = (res: Response, errcode: number, errmsg: string, extra: Record<string, unknown> = {}) =>
  res.json({ errcode, errmsg: errcode === 0 ? 'ok' : `${errmsg} rid: ${rid()}`, ...extra });

/** RFC 3339 with an offset (Z or ±hh:mm), optional fraction: what upload_time must be. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export function createShippingSandbox(s: SandboxState, o: { later: (ms: number) => Promise<void> }): ShippingSandbox {
  const controls: ShippingControls = { ...DEFAULT_SHIPPING_CONTROLS };
  const orders = new Map<string, ShippingOrder>();
  const pushes: PushRecord[] = [];
  const tokens = { stable: [] as Token[], plain: [] as Token[] };
  let issued = 0;
  let forces: number[] = [];
  let lastForce = -Infinity;
  let jumpPath: string | null = null;
  let stopped = false;

  const newToken = (family: Token[]): Token => {
    const now = s.now();
    for (const t of family) if (t.replacedAt === null) t.replacedAt = now;
    const t = {
      value: `${family === tokens.stable ? 'ST' : 'AT'}_${crypto.randomBytes(48).toString('base64url')}`,
      expiresAt: now + TOKEN_TTL_S * 1000,
      replacedAt: null,
    };
    family.push(t);
    while (family.length > 4) family.shift();
    issued += 1;
    return t;
  };
  const live = (family: Token[]) => family.find((t) => t.replacedAt === null && t.expiresAt > s.now()) ?? null;

  /** The shipping record of a paid order, created at state 1 on first sight. */
  const shippingOf = (o: SandboxOrder): ShippingOrder | null => {
    current(s, o);
    if (o.state !== 'SUCCESS' || !o.transactionId) return null;
    let r = orders.get(o.transactionId);
    if (!r) {
      r = {
        transactionId: o.transactionId,
        outTradeNo: o.body.out_trade_no,
        openid: o.body.payer.openid,
        amount: o.body.amount.total,
        payTime: Math.floor(Date.parse(o.successTime ?? new Date(s.now()).toISOString()) / 1000),
        state: 1,
        logisticsType: null,
        deliveryMode: null,
        finishCount: 0,
        packages: [],
        lastUploadTime: 0,
        lastUpload: null,
        shippedAt: null,
        reminded: false,
        confirmTimer: null,
        uploads: [],
      };
      orders.set(o.transactionId, r);
    }
    // A fully refunded payment is state 5 (已退款).
    let refunded = 0;
    for (const f of s.refunds.values()) if (f.transactionId === o.transactionId && f.status === 'SUCCESS') refunded += f.amount;
    if (refunded >= r.amount && r.state < 3) r.state = 5;
    return r;
  };
  const findByKey = (key: {
    transaction_id?: unknown;
    merchant_id?: unknown;
    mchid?: unknown;
    merchant_trade_no?: unknown;
    out_trade_no?: unknown;
  }): ShippingOrder | null => {
    if (typeof key.transaction_id === 'string') {
      const no = s.transactions.get(key.transaction_id);
      const o = no ? s.orders.get(no) : undefined;
      return o && o.transactionId === key.transaction_id ? shippingOf(o) : null;
    }
    const mchid = key.merchant_id ?? key.mchid;
    const no = key.merchant_trade_no ?? key.out_trade_no;
    if (mchid !== s.keys.mchid || typeof no !== 'string') return null;
    const o = s.orders.get(no);
    return o ? shippingOf(o) : null;
  };
  const orderJson = (r: ShippingOrder) => ({
    transaction_id: r.transactionId,
    merchant_id: s.keys.mchid,
    sub_merchant_id: '',
    merchant_trade_no: r.outTradeNo,
    description: r.packages
      .map((p) => p.goods_desc)
      .join(';')
      .replace(/^(.{120}).+$/su, '$1...'),
    paid_amount: r.amount,
    openid: r.openid,
    trade_create_time: r.payTime,
    pay_time: r.payTime,
    in_complaint: false,
    order_state: r.state,
    shipping:
      r.deliveryMode === null
        ? {}
        : {
            delivery_mode: r.deliveryMode,
            logistics_type: r.logisticsType,
            finish_shipping: r.finishCount > 0,
            finish_shipping_count: r.finishCount,
            goods_desc: '',
            shipping_list: r.packages,
          },
  });

  // ---- message pushes -------------------------------------------------------------------------
  const pushTarget = (r: ShippingOrder): string | null => {
    const o = s.orders.get(r.outTradeNo);
    try {
      return o ? new URL('/api/wechat/messages', o.body.notify_url).toString() : null;
    } catch {
      return null;
    }
  };
  async function push(r: ShippingOrder, event: string, fields: Record<string, unknown>): Promise<void> {
    const url = pushTarget(r);
    const token = s.keys.messageToken;
    const key = s.keys.encodingAesKey ? aesKeyOf(s.keys.encodingAesKey) : null;
    if (!url || !token || !key) return;
    const message = {
      ToUserName: `gh_${s.keys.appid.slice(2, 14)}`,
      FromUserName: 'o_system',
      CreateTime: Math.floor(s.now() / 1000),
      MsgType: 'event',
      Event: event,
      ...fields,
    };
    const record: PushRecord = { event, url, body: message, attempts: 0, status: 'failed' };
    pushes.push(record);
    if (controls.dropMessagePushes > 0) {
      controls.dropMessagePushes -= 1;
      record.status = 'dropped';
      return;
    }
    // Safe mode, JSON: the message encrypted with the EncodingAESKey, the signature over Encrypt.
    for (let attempt = 0; attempt < 4 && !stopped; attempt++) {
      if (attempt > 0) await o.later(Math.max(1, 5000 * s.controls.timeScale));
      const timestamp = String(Math.floor(s.now() / 1000));
      const nonce = String(crypto.randomInt(1e9));
      const encrypted = encryptMessage(key, JSON.stringify(message), s.keys.appid);
      const q = new URLSearchParams({
        signature: pushSignature(token, timestamp, nonce),
        timestamp,
        nonce,
        encrypt_type: 'aes',
        msg_signature: pushSignature(token, timestamp, nonce, encrypted),
      });
      record.attempts += 1;
      try {
        const res = await fetch(`${url}?${q}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ToUserName: message.ToUserName, Encrypt: encrypted }),
          signal: AbortSignal.timeout(5000),
        });
        const text = (await res.text()).trim();
        if (res.ok && (text === '' || text === 'success')) {
          record.status = 'delivered';
          return;
        }
      } catch {
        // retried
      }
    }
  }

  /** What every trade_manage_order_settlement push carries. */
  const settlementBase = (r: ShippingOrder) => ({
    transaction_id: r.transactionId,
    merchant_id: s.keys.mchid,
    sub_merchant_id: '',
    merchant_trade_no: r.outTradeNo,
    pay_time: r.payTime,
    shipped_time: Math.floor((r.shippedAt ?? s.now()) / 1000),
  });

  const settle = (r: ShippingOrder, method: 1 | 2) => {
    if (r.state !== 2) return;
    if (r.confirmTimer) clearTimeout(r.confirmTimer);
    r.confirmTimer = null;
    const confirmTime = Math.floor(s.now() / 1000);
    r.state = 3; // receipt confirmed …
    r.state = 6; // … awaiting settlement …
    r.state = 4; // … settled at once in the sandbox (choice: WeChat's settlement delay is not documented)
    void push(r, 'trade_manage_order_settlement', {
      ...settlementBase(r),
      confirm_receive_method: method,
      confirm_receive_time: confirmTime,
      settlement_time: confirmTime,
    });
  };

  const finishShipping = (r: ShippingOrder) => {
    r.state = 2;
    r.shippedAt = s.now();
    const estimated = Math.floor(s.now() / 1000) + (r.logisticsType === 1 ? 10 : 2) * 86_400;
    void push(r, 'trade_manage_order_settlement', {
      ...settlementBase(r),
      estimated_settlement_time: estimated,
    });
    if (r.confirmTimer) clearTimeout(r.confirmTimer);
    if (controls.autoConfirmSeconds > 0) {
      r.confirmTimer = setTimeout(() => settle(r, 1), Math.max(1, controls.autoConfirmSeconds * 1000 * s.controls.timeScale));
      r.confirmTimer.unref();
    }
  };

  // ---- the routes ------------------------------------------------------------------------------
  const routes = express.Router();
  const json = express.json({ type: () => true, limit: '64kb', strict: false });

  routes.get('/cgi-bin/token', (req, res) => {
    const { grant_type: grant, appid, secret } = req.query as Record<string, string | undefined>;
    if (grant !== 'client_credential') return answer(res, 40002, 'invalid grant_type');
    if (!appid) return answer(res, 41002, 'appid missing');
    if (appid !== s.keys.appid) return answer(res, 40013, 'invalid appid');
    if (!secret) return answer(res, 41004, 'appsecret missing');
    if (secret !== s.keys.appSecret) return answer(res, 40125, 'invalid appsecret');
    // Every call rotates: the previous token keeps working for 5 minutes.
    const t = newToken(tokens.plain);
    res.json({ access_token: t.value, expires_in: TOKEN_TTL_S });
  });
  routes.all('/cgi-bin/stable_token', json, (req, res) => {
    if (req.method !== 'POST') return answer(res, 43002, 'require POST method');
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (b.grant_type !== 'client_credential') return answer(res, 40002, 'invalid grant_type');
    if (!b.appid) return answer(res, 41002, 'appid missing');
    if (b.appid !== s.keys.appid) return answer(res, 40013, 'invalid appid');
    if (!b.secret) return answer(res, 41004, 'appsecret missing');
    if (b.secret !== s.keys.appSecret) return answer(res, 40125, 'invalid appsecret');
    const now = s.now();
    let t = live(tokens.stable);
    if (b.force_refresh === true) {
      forces = forces.filter((f) => f > now - 86_400_000);
      // At most 20 a day, 30 s apart; a call too soon just returns the current token.
      if (now - lastForce >= 30_000 && forces.length < 20) {
        lastForce = now;
        forces.push(now);
        t = newToken(tokens.stable);
      }
    }
    // The platform rotates 5 minutes before expiry: expires_in is never below 300.
    if (!t || t.expiresAt - now < OVERLAP_MS) t = newToken(tokens.stable);
    res.json({ access_token: t.value, expires_in: Math.floor((t.expiresAt - now) / 1000) });
  });

  /** Business APIs: HTTP 200 always, the token checked first. */
  const business = (handler: (req: Request, res: Response, body: Record<string, unknown>) => void) => [
    express.text({ type: () => true, limit: '64kb' }),
    (req: Request, res: Response) => {
      if (req.method !== 'POST') return answer(res, 43002, 'require POST method');
      const token = typeof req.query.access_token === 'string' ? req.query.access_token : '';
      if (!token) return answer(res, 41001, 'access_token missing');
      const now = s.now();
      const t = [...tokens.stable, ...tokens.plain].find((x) => x.value === token);
      if (!t) return answer(res, 40001, 'invalid credential, access_token is invalid or not latest');
      if (t.expiresAt <= now) return answer(res, 42001, 'access_token expired');
      if (t.replacedAt !== null && now - t.replacedAt > OVERLAP_MS)
        return answer(res, 40001, 'invalid credential, access_token is invalid or not latest');
      const text = typeof req.body === 'string' ? req.body : '';
      if (!text.trim()) return answer(res, 44002, 'empty post data');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return answer(res, 47001, 'data format error');
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) return answer(res, 47001, 'data format error');
      handler(req, res, body as Record<string, unknown>);
    },
  ];

  routes.all(
    '/wxa/sec/order/upload_shipping_info',
    ...business((_req, res, b) => {
      const key = b.order_key as Record<string, unknown> | undefined;
      if (!key || typeof key !== 'object') return answer(res, 268485194, 'invalid order_number_type');
      if (key.order_number_type !== 1 && key.order_number_type !== 2) return answer(res, 268485194, 'invalid order_number_type');
      if (key.order_number_type === 2 && !key.transaction_id) return answer(res, 268485195, 'transaction_id is empty');
      if (key.order_number_type === 1 && !key.mchid) return answer(res, 268485196, 'mchid is empty');
      if (key.order_number_type === 1 && !key.out_trade_no) return answer(res, 268485197, 'out_trade_no is empty');
      if (b.delivery_mode !== 1 && b.delivery_mode !== 2) return answer(res, 268485224, 'invalid delivery_mode');
      const list = b.shipping_list;
      if (list !== undefined && !Array.isArray(list)) return answer(res, 47001, 'data format error');
      if (!Array.isArray(list) || (b.delivery_mode === 1 && list.length !== 1))
        return answer(res, 268485228, 'unified delivery requires exactly one shipping_list item');
      if (list.length > 15) return answer(res, 10060024, 'shipping_list too long');
      if (![1, 2, 3, 4].includes(b.logistics_type as number)) return answer(res, 10060005, 'invalid logistics_type');
      if (b.delivery_mode === 2 && b.logistics_type !== 1) return answer(res, 10060006, 'split delivery is for express only');
      if (b.delivery_mode === 2 && typeof b.is_all_delivered !== 'boolean')
        return answer(res, 10060007, 'is_all_delivered is required in split mode');
      for (const item of list as Record<string, unknown>[]) {
        if (!item || typeof item !== 'object') return answer(res, 47001, 'data format error');
        if (b.logistics_type === 1) {
          if (!item.tracking_no) return answer(res, 268485226, 'tracking_no is empty');
          if (!item.express_company) return answer(res, 268485227, 'express_company is empty');
          if (bytes(String(item.tracking_no)) > 128) return answer(res, 10060026, 'tracking_no too long');
          if (bytes(String(item.express_company)) > 128) return answer(res, 10060025, 'express_company too long');
          // choice: an express_company outside the delivery list is refused with 10060014.
          if (!CARRIERS.has(String(item.express_company)))
            return answer(res, 10060014, `unknown express_company ${String(item.express_company).slice(0, 20)}`);
          // choice: SF requires a masked contact; the errcode for its absence is unconfirmed, 10060014 here.
          if (item.express_company === 'SF') {
            const c = item.contact as Record<string, unknown> | undefined;
            const v = String(c?.consignor_contact ?? c?.receiver_contact ?? '');
            if (!/^(\+\d{1,3}-)?[\d-]*\*{4}\d{4}$/.test(v))
              return answer(res, 10060014, 'SF requires contact.consignor_contact or receiver_contact, masked (e.g. 189****1234)');
          }
        }
        if (!item.item_desc || typeof item.item_desc !== 'string') return answer(res, 10060008, 'item_desc is empty');
        if ([...item.item_desc].length > 120) return answer(res, 10060009, 'item_desc too long');
      }
      if (typeof b.upload_time !== 'string' || !RFC3339.test(b.upload_time)) return answer(res, 268485216, 'upload_time is not RFC 3339');
      const payer = b.payer as Record<string, unknown> | undefined;
      if (!payer || typeof payer.openid !== 'string' || !payer.openid) return answer(res, 10060014, 'payer.openid is required');
      if (controls.failShippingUploads && controls.failShippingUploads.times > 0) {
        controls.failShippingUploads.times -= 1;
        const code = controls.failShippingUploads.errcode;
        if (controls.failShippingUploads.times === 0) controls.failShippingUploads = null;
        return answer(res, code, code === -1 ? 'system error' : 'failed by the sandbox switch');
      }
      const r = findByKey(key);
      if (!r) return answer(res, 10060001, 'payment order not found');
      if (r.openid !== payer.openid) return answer(res, 10060031, 'the order does not belong to payer.openid');
      if (r.state !== 1 && r.state !== 2) return answer(res, 10060004, 'the order cannot be shipped in its state');
      const uploadTime = Date.parse(b.upload_time);
      // choice: a stale upload_time (not after the last upload) is 10060014.
      if (uploadTime <= r.lastUploadTime) return answer(res, 10060014, 'upload_time must be later than the previous upload');
      const canonical = JSON.stringify([b.logistics_type, b.delivery_mode, list]);
      if (r.lastUpload === canonical) return answer(res, 10060023, 'shipping info not updated');
      const reship = r.finishCount > 0;
      if (reship && r.finishCount >= 2) return answer(res, 10060003, 'the re-ship chance has been used');
      const packages = (list as Record<string, unknown>[]).map((i) => ({
        ...(i.tracking_no ? { tracking_no: String(i.tracking_no) } : {}),
        ...(i.express_company ? { express_company: String(i.express_company) } : {}),
        goods_desc: String(i.item_desc),
        upload_time: Math.floor(uploadTime / 1000),
        ...(i.contact ? { contact: i.contact as ShippingPackage['contact'] } : {}),
      }));
      r.lastUploadTime = uploadTime;
      r.lastUpload = canonical;
      r.uploads.push(b);
      r.logisticsType = b.logistics_type as number;
      r.deliveryMode = b.delivery_mode as number;
      if (reship) {
        r.packages = packages;
        r.finishCount = 2;
        finishShipping(r);
      } else if (b.delivery_mode === 1 || b.is_all_delivered === true) {
        r.packages = b.delivery_mode === 1 ? packages : [...r.packages, ...packages];
        if (r.packages.length > 15) return answer(res, 10060024, 'more than 15 packages');
        r.finishCount = 1;
        finishShipping(r);
      } else {
        r.packages = [...r.packages, ...packages];
        if (r.packages.length > 15) return answer(res, 10060024, 'more than 15 packages');
      }
      answer(res, 0, 'ok');
    }),
  );

  routes.all(
    '/wxa/sec/order/get_order',
    ...business((_req, res, b) => {
      if (!b.transaction_id && !(b.merchant_id && b.merchant_trade_no))
        return answer(res, 10060014, 'transaction_id or merchant_id + merchant_trade_no required');
      const r = findByKey(b);
      if (!r) return answer(res, 10060001, 'payment order not found');
      answer(res, 0, 'ok', { order: orderJson(r) });
    }),
  );

  routes.all(
    '/wxa/sec/order/get_order_list',
    ...business((_req, res, b) => {
      const range = (b.pay_time_range ?? {}) as { begin_time?: unknown; end_time?: unknown };
      const begin = typeof range.begin_time === 'number' ? range.begin_time : 0;
      const end = typeof range.end_time === 'number' ? range.end_time : 4294967295;
      const size = typeof b.page_size === 'number' && b.page_size > 0 ? Math.min(100, b.page_size) : 100;
      let from = 0;
      if (b.last_index !== undefined) {
        // An opaque cursor: the base64 of the next position; anything else is 10060011.
        const decoded = typeof b.last_index === 'string' ? Buffer.from(b.last_index, 'base64url').toString() : '';
        if (!/^pos:\d+$/.test(decoded)) return answer(res, 10060011, 'invalid last_index');
        from = Number(decoded.slice(4));
      }
      // Every paid order the sandbox took, oldest first, filtered as asked (pay_time inclusive).
      for (const o of s.orders.values()) shippingOf(o);
      const all = [...orders.values()]
        .filter((r) => r.payTime >= begin && r.payTime <= end)
        .filter((r) => b.order_state === undefined || r.state === b.order_state)
        .filter((r) => b.openid === undefined || r.openid === b.openid)
        .sort((x, y) => x.payTime - y.payTime || x.transactionId.localeCompare(y.transactionId));
      const page = all.slice(from, from + size);
      const hasMore = from + size < all.length;
      answer(res, 0, 'ok', {
        order_list: page.map(orderJson),
        last_index: Buffer.from(`pos:${from + page.length}`).toString('base64url'),
        has_more: hasMore,
      });
    }),
  );

  routes.all(
    '/wxa/sec/order/notify_confirm_receive',
    ...business((_req, res, b) => {
      const r = findByKey(b);
      if (!r) return answer(res, 10060001, 'payment order not found');
      if (r.state !== 2) return answer(res, 10060028, 'the order is not shipped');
      if (r.logisticsType !== 1) return answer(res, 10060032, 'only express orders may be reminded');
      if (r.reminded) return answer(res, 10060030, 'the reminder was already used');
      if (typeof b.received_time !== 'number' || b.received_time * 1000 <= (r.shippedAt ?? 0))
        return answer(res, 10060029, 'invalid received_time');
      r.reminded = true;
      answer(res, 0, 'ok');
    }),
  );

  routes.all(
    '/wxa/sec/order/set_msg_jump_path',
    ...business((_req, res, b) => {
      if (typeof b.path !== 'string') return answer(res, 10060014, 'path is required');
      jumpPath = b.path;
      answer(res, 0, 'ok');
    }),
  );

  routes.all(
    '/wxa/sec/order/is_trade_managed',
    ...business((_req, res, b) => {
      if (b.appid !== s.keys.appid) return answer(res, 40013, 'invalid appid');
      answer(res, 0, 'ok', { is_trade_managed: true });
    }),
  );

  routes.all(
    '/cgi-bin/express/delivery/open_msg/get_delivery_list',
    ...business((_req, res) => answer(res, 0, 'ok', { delivery_list: DELIVERY_LIST, count: DELIVERY_LIST.length })),
  );

  // ---- /sandbox: the confirm-receipt component's stand-in and the switches (loopback only, via the payer router's guard)
  const controlRoutes = express.Router();
  controlRoutes.post('/confirm-receipt', express.json(), (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const req_extradata = {
      merchant_id: b.merchant_id,
      merchant_trade_no: b.merchant_trade_no,
      ...(b.transaction_id ? { transaction_id: b.transaction_id } : {}),
    };
    const r = findByKey(b);
    // As community reports describe the component: cancel when not awaiting receipt, fail for another payer.
    if (r?.state !== 2) return res.json({ appId: CONFIRM_COMPONENT_APPID, extraData: { status: 'cancel', req_extradata } });
    if (typeof b.openid === 'string' && b.openid !== r.openid)
      return res.json({ appId: CONFIRM_COMPONENT_APPID, extraData: { status: 'fail', errormsg: 'not the payer', req_extradata } });
    settle(r, 2);
    res.json({ appId: CONFIRM_COMPONENT_APPID, extraData: { status: 'success', req_extradata } });
  });
  const controlsSchema = z.strictObject({
    failShippingUploads: z
      .strictObject({ errcode: z.number().int(), times: z.number().int().min(1).max(1000) })
      .nullable()
      .optional(),
    dropMessagePushes: z.number().int().min(0).max(1_000_000).optional(),
    autoConfirmSeconds: z
      .number()
      .min(0)
      .max(90 * 86_400)
      .optional(),
  });
  controlRoutes.get('/shipping-controls', (_req, res) => res.json(controls));
  controlRoutes.post('/shipping-controls', express.json(), (req, res) => {
    const parsed = controlsSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return res.status(400).json({ errMsg: `${issue.path.join('.') || 'controls'}: ${issue.message}` });
    }
    for (const [k, v] of Object.entries(parsed.data)) if (v !== undefined) (controls as unknown as Record<string, unknown>)[k] = v;
    res.json(controls);
  });
  // WeChat reminds the merchant about an order unshipped for 48 hours; this sends that push now.
  controlRoutes.post('/remind-shipping', express.json(), (req, res) => {
    const no = String(req.body?.merchant_trade_no ?? '');
    const o = s.orders.get(no);
    const r = o ? shippingOf(o) : null;
    if (r?.state !== 1) return res.status(409).json({ errMsg: 'only a paid order still to ship is reminded' });
    void push(r, 'trade_manage_remind_shipping', {
      transaction_id: r.transactionId,
      merchant_id: s.keys.mchid,
      sub_merchant_id: '',
      merchant_trade_no: r.outTradeNo,
      pay_time: r.payTime,
      msg: '你有订单超过48小时未发货，请尽快发货',
    });
    res.json({ sent: true });
  });
  controlRoutes.get('/tokens', (_req, res) => res.json({ issued }));
  const expireTokens = () => {
    for (const t of [...tokens.stable, ...tokens.plain]) t.expiresAt = Math.min(t.expiresAt, s.now());
    return tokens.stable.length + tokens.plain.length;
  };
  controlRoutes.post('/expire-tokens', (_req, res) => {
    res.json({ expired: expireTokens() });
  });
  controlRoutes.get('/shipping/:outTradeNo', (req, res) => {
    const o = s.orders.get(req.params.outTradeNo);
    const r = o ? shippingOf(o) : null;
    if (!r) return res.status(404).json({ errMsg: 'no paid order with this out_trade_no' });
    res.json({
      order: orderJson(r),
      uploads: r.uploads,
      pushes: pushes
        .filter((p) => p.body.merchant_trade_no === r.outTradeNo)
        .map(({ event, status, attempts }) => ({ event, status, attempts })),
    });
  });

  return {
    routes,
    controlRoutes,
    controls,
    orders,
    pushes,
    jumpPath: () => jumpPath,
    expireTokens() {
      expireTokens();
    },
    tokensIssued: () => issued,
    stop() {
      stopped = true;
      for (const r of orders.values()) if (r.confirmTimer) clearTimeout(r.confirmTimer);
    },
  };
}
