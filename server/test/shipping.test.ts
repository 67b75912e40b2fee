// Issue 14: shipping a paid order through WeChat's shipping-info management, over HTTP against the
// sandbox — access tokens, uploads, the one change, retries, pushes and their signatures, refunds.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemDescription, maskPhone } from '../src/domain/shipment';
import { beijingTimeMillis as rfc3339Beijing } from '../src/wechatpay/time';
import { createAccessTokens } from '../src/wechat/access-token';
import { aesKeyOf, decryptMessage, encryptMessage, pushSignature } from '../src/wechat/message-crypto';
import { startTestSystem, type TestSystem } from './helpers';
import { startSystemProcess } from './system-process';

let sys: TestSystem;
let env: Record<string, string>;
beforeAll(async () => {
  sys = await startTestSystem({
    env: {
      RECONCILE_INTERVAL_SECONDS: '0',
      SHOP_CONTACT_PHONE: '13800138000',
      LIMIT_ORDERS_PER_MINUTE: '1000',
      LIMIT_LOGIN_PER_MINUTE: '1000',
    },
  });
  env = util.parseEnv(fs.readFileSync(path.join(sys.dataDir, 'sandbox', 'sandbox.env'), 'utf8')) as Record<string, string>;
});
afterAll(() => sys.close());

const sandbox = (method: string, p: string, body?: unknown) =>
  sys.request(method, `${sys.sandboxUrl}/sandbox${p}`, body === undefined ? {} : { body });
const ship = (orderId: string, body: unknown) =>
  sys.request('POST', `/api/admin/orders/${orderId}/shipments`, { body, headers: { Authorization: `Bearer ${sys.adminToken}` } });
const adminOrder = async (orderId: string) =>
  (await sys.request('GET', `/api/admin/orders/${orderId}`, { headers: { Authorization: `Bearer ${sys.adminToken}` } })).body;

const paidOrder = (items?: { sku: string; quantity: number }[]) => sys.paidOrder(items);

describe('what is sent to WeChat', () => {
  it('masks a phone number, keeping the last four digits; builds the item description within 120 characters; writes RFC 3339 in Beijing time', () => {
    expect(maskPhone('13800138000')).toBe('138****8000');
    expect(maskPhone('+86-17712341234')).toBe('+86-177****1234');
    expect(maskPhone('021-12345678')).toBe('021-****5678');
    expect(
      itemDescription([
        { name: '陶瓷马克杯', quantity: 2 },
        { name: '贴纸一套', quantity: 1 },
      ]),
    ).toBe('陶瓷马克杯*2;贴纸一套*1');
    const long = itemDescription(Array.from({ length: 30 }, (_, i) => ({ name: `商品${i}`, quantity: 1 })));
    expect([...long]).toHaveLength(120);
    expect(long.endsWith('…')).toBe(true);
    expect(rfc3339Beijing(Date.UTC(2026, 10, 30, 10, 0, 0, 123))).toBe('2026-11-30T18:00:00.123+08:00');
  });

  it('an express order ships: the sandbox holds exactly the uploaded fields (time format, description, SF contact masked)', async () => {
    const { order } = await paidOrder([
      { sku: 'MUG-CERAMIC', quantity: 2 },
      { sku: 'STICKER-PACK', quantity: 1 },
    ]);
    const res = await ship(order.id, { logisticsType: 'express', packages: [{ carrier: 'SF', trackingNo: 'SF1234567890' }] });
    expect(res.status).toBe(201);
    expect(res.body.shipment).toMatchObject({ status: 'SHIPPED', upload: 'ACCEPTED', shipCount: 1, wechatState: 2 });
    const at = (await sandbox('GET', `/shipping/${order.outTradeNo}`)).body;
    expect(at.order.order_state).toBe(2);
    expect(at.uploads).toHaveLength(1);
    const u = at.uploads[0];
    expect(u).toMatchObject({
      order_key: { order_number_type: 1, mchid: env.WECHATPAY_MCHID, out_trade_no: order.outTradeNo },
      logistics_type: 1,
      delivery_mode: 1,
      shipping_list: [
        {
          tracking_no: 'SF1234567890',
          express_company: 'SF',
          item_desc: expect.stringMatching(/^陶瓷马克杯\*2;.+\*1$/),
          contact: { consignor_contact: '138****8000' },
        },
      ],
      payer: { openid: expect.stringMatching(/^o/) },
    });
    expect(u.upload_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+08:00$/);
    expect([...u.shipping_list[0].item_desc].length).toBeLessThanOrEqual(120);
    // The full number never leaves the server.
    expect(JSON.stringify(at)).not.toContain('13800138000');
    // The shopper sees it, with the carrier's name.
    const view = (await adminOrder(order.id)).order.shipment;
    expect(view).toMatchObject({
      status: 'SHIPPED',
      logisticsType: 'express',
      packages: [{ carrier: 'SF', carrierName: '顺丰速运', trackingNo: 'SF1234567890' }],
    });
  });

  it('a virtual-goods order ships without a tracking number', async () => {
    const { order } = await paidOrder();
    const res = await ship(order.id, { logisticsType: 'virtual' });
    expect(res.status).toBe(201);
    expect(res.body.shipment.upload).toBe('ACCEPTED');
    const u = (await sandbox('GET', `/shipping/${order.outTradeNo}`)).body.uploads[0];
    expect(u.logistics_type).toBe(3);
    expect(u.shipping_list).toEqual([{ item_desc: '陶瓷马克杯*1' }]);
  });

  it('names the field for a bad shipment, before anything is sent', async () => {
    const { order } = await paidOrder();
    const cases: [unknown, string][] = [
      [{ logisticsType: 'express', packages: [] }, 'packages'],
      [{ logisticsType: 'express', packages: [{ carrier: 'NOPE', trackingNo: '1' }] }, 'packages[0].carrier'],
      [{ logisticsType: 'boat' }, 'logisticsType'],
      [{ logisticsType: 'virtual', packages: [{ carrier: 'SF', trackingNo: '1' }] }, 'packages'],
    ];
    for (const [body, field] of cases) {
      const res = await ship(order.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.field).toBe(field);
    }
    expect((await sandbox('GET', `/shipping/${order.outTradeNo}`)).body.uploads).toEqual([]);
  });
});

describe('the rules', () => {
  it('one change is accepted; the next is refused before calling WeChat, saying why', async () => {
    const { order } = await paidOrder();
    expect((await ship(order.id, { logisticsType: 'express', packages: [{ carrier: 'YTO', trackingNo: 'YT1' }] })).status).toBe(201);
    const changed = await ship(order.id, { logisticsType: 'express', packages: [{ carrier: 'ZTO', trackingNo: 'ZT2' }] });
    expect(changed.status).toBe(200);
    expect(changed.body.shipment).toMatchObject({ upload: 'ACCEPTED', shipCount: 2 });
    const third = await ship(order.id, { logisticsType: 'express', packages: [{ carrier: 'STO', trackingNo: 'ST3' }] });
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe('RESHIP_USED');
    expect(third.body.error.message).toMatch(/one change/);
    const at = (await sandbox('GET', `/shipping/${order.outTradeNo}`)).body;
    expect(at.uploads).toHaveLength(2);
    expect(at.order.shipping.finish_shipping_count).toBe(2);
  });

  it('uploads failing with -1 three times, then accepted, end SHIPPED exactly once', async () => {
    const { order } = await paidOrder();
    await sandbox('POST', '/shipping-controls', { failShippingUploads: { errcode: -1, times: 3 } });
    const res = await ship(order.id, { logisticsType: 'express', packages: [{ carrier: 'YD', trackingNo: 'YD100' }] });
    expect(res.status).toBe(201);
    expect(res.body.shipment.upload).toBe('PENDING');
    for (let i = 0; i < 3; i++) await sys.server.reconcileNow();
    const s = (await adminOrder(order.id)).shipment;
    expect(s).toMatchObject({ status: 'SHIPPED', upload: 'ACCEPTED', uploadAttempts: 4 });
    const at = (await sandbox('GET', `/shipping/${order.outTradeNo}`)).body;
    expect(at.uploads).toHaveLength(1);
    expect(at.order.shipping.finish_shipping_count).toBe(1);
    expect(at.pushes.filter((p: { event: string }) => p.event === 'trade_manage_order_settlement')).toHaveLength(1);
  });

  it('shipping while reconciliation runs sends each shipment once: an upload holds its shipment', async () => {
    const orders = [];
    for (let i = 0; i < 12; i++) orders.push((await paidOrder()).order);
    const logsBefore = sys.logs.length;
    let shipping = true;
    const rounds = (async () => {
      // As the operator pressing "reconcile now" over and over.
      while (shipping) {
        await sys.server.reconcileNow();
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await Promise.all(
      orders.map((o, i) => ship(o.id, { logisticsType: 'express', packages: [{ carrier: 'YD', trackingNo: `YDRACE${i}` }] })),
    );
    shipping = false;
    await rounds;
    for (const o of orders) {
      expect((await adminOrder(o.id)).shipment).toMatchObject({ upload: 'ACCEPTED', uploadClaim: null });
      expect((await sandbox('GET', `/shipping/${o.outTradeNo}`)).body.uploads).toHaveLength(1);
    }
    expect(sys.logs.slice(logsBefore).filter((l) => l.includes('WeChat refused the shipment'))).toEqual([]);
  });

  it('a refusal is kept on the shipment with what to fix', async () => {
    const { order } = await paidOrder();
    await sandbox('POST', '/shipping-controls', { failShippingUploads: { errcode: 10060031, times: 1 } });
    const res = await ship(order.id, { logisticsType: 'virtual' });
    expect(res.body.shipment).toMatchObject({ upload: 'REFUSED', refusal: { code: 10060031, fix: expect.stringMatching(/WECHAT_APPID/) } });
    // Sent again with the problem gone, it is accepted and does not count as the one change.
    const again = await ship(order.id, { logisticsType: 'virtual' });
    expect(again.body.shipment).toMatchObject({ upload: 'ACCEPTED', shipCount: 1 });
  });

  it('a refunded order cannot be shipped', async () => {
    const { order } = await paidOrder();
    const refund = await sys.request('POST', `/api/admin/orders/${order.id}/refunds`, {
      body: { amount: order.total },
      headers: { Authorization: `Bearer ${sys.adminToken}` },
    });
    expect(refund.status).toBe(201);
    const res = await ship(order.id, { logisticsType: 'virtual' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ORDER_REFUNDED');
  });

  it('an unpaid order cannot be shipped', async () => {
    const { order } = await sys.checkout(await sys.login());
    const res = await ship(order.id, { logisticsType: 'virtual' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ORDER_NOT_PAID');
  });
});

describe('access tokens', () => {
  it('a token expired mid-flight is refreshed once and the call succeeds', async () => {
    const a = await paidOrder();
    await ship(a.order.id, { logisticsType: 'virtual' });
    const before = (await sandbox('GET', '/tokens')).body.issued;
    await sandbox('POST', '/expire-tokens');
    const b = await paidOrder();
    const res = await ship(b.order.id, { logisticsType: 'virtual' });
    expect(res.body.shipment.upload).toBe('ACCEPTED');
    expect((await sandbox('GET', '/tokens')).body.issued - before).toBe(1);
  });

  it('20 concurrent callers on an empty cache share one stable_token fetch', async () => {
    const tokens = createAccessTokens({ baseUrl: env.WECHAT_API_BASE!, appid: env.WECHAT_APPID!, appSecret: env.WECHAT_APP_SECRET! });
    const seen = await Promise.all(Array.from({ length: 20 }, () => tokens.call(async (token) => ({ errcode: 0, token }))));
    expect(tokens.fetches()).toBe(1);
    expect(new Set(seen.map((a) => a.token)).size).toBe(1);
  });

  it('20 concurrent uploads fetch at most one token', async () => {
    const orders = [];
    for (let i = 0; i < 20; i++) orders.push((await paidOrder()).order);
    await sandbox('POST', '/expire-tokens');
    const before = (await sandbox('GET', '/tokens')).body.issued;
    const results = await Promise.all(orders.map((o) => ship(o.id, { logisticsType: 'virtual' })));
    expect(results.map((r) => r.body.shipment?.upload)).toEqual(orders.map(() => 'ACCEPTED'));
    expect((await sandbox('GET', '/tokens')).body.issued - before).toBeLessThanOrEqual(1);
  });
});

describe('what WeChat tells us back', () => {
  const pushTo = async (
    message: Record<string, unknown>,
    o: { appid?: string; badSignature?: boolean; timestamp?: number; nonce?: string } = {},
  ) => {
    const key = aesKeyOf(env.WECHAT_MESSAGE_AES_KEY!)!;
    const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
    const nonce = o.nonce ?? String(crypto.randomInt(1e9));
    const encrypted = encryptMessage(key, JSON.stringify(message), o.appid ?? env.WECHAT_APPID!);
    const sig = o.badSignature ? 'f'.repeat(40) : pushSignature(env.WECHAT_MESSAGE_TOKEN!, timestamp, nonce, encrypted);
    const q = new URLSearchParams({
      signature: pushSignature(env.WECHAT_MESSAGE_TOKEN!, timestamp, nonce),
      timestamp,
      nonce,
      encrypt_type: 'aes',
      msg_signature: sig,
    });
    return fetch(`${sys.api}/api/wechat/messages?${q}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ToUserName: 'gh_x', Encrypt: encrypted }),
    });
  };

  it('answers the URL check with echostr when the signature holds', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const ok = await fetch(
      `${sys.api}/api/wechat/messages?${new URLSearchParams({ signature: pushSignature(env.WECHAT_MESSAGE_TOKEN!, timestamp, '42'), timestamp, nonce: '42', echostr: 'hello-123' })}`,
    );
    expect(await ok.text()).toBe('hello-123');
    const bad = await fetch(
      `${sys.api}/api/wechat/messages?${new URLSearchParams({ signature: 'x', timestamp, nonce: '42', echostr: 'hello-123' })}`,
    );
    expect(bad.status).toBe(401);
  });

  it('decrypts what it encrypts, with 32-byte padding and the appid check', () => {
    const key = crypto.randomBytes(32);
    for (const text of ['', 'a', 'x'.repeat(27), 'x'.repeat(28), '中文'.repeat(50)])
      expect(decryptMessage(key, encryptMessage(key, text, 'wxabc'), 'wxabc')).toBe(text);
    expect(() => decryptMessage(key, encryptMessage(key, 'hi', 'wxother'), 'wxabc')).toThrow(/another appid/);
  });

  it('a push with a bad signature, a wrong appid or a stale timestamp is refused and changes nothing; a good one completes the order', async () => {
    const { order } = await paidOrder();
    await ship(order.id, { logisticsType: 'virtual' });
    const settled = {
      Event: 'trade_manage_order_settlement',
      merchant_trade_no: order.outTradeNo,
      confirm_receive_time: Math.floor(Date.now() / 1000),
      settlement_time: Math.floor(Date.now() / 1000),
    };
    expect((await pushTo(settled, { badSignature: true })).status).toBe(401);
    expect((await pushTo(settled, { appid: 'wx0000000000000000' })).status).toBe(401);
    expect((await pushTo(settled, { timestamp: Math.floor(Date.now() / 1000) - 3600 })).status).toBe(401);
    expect((await adminOrder(order.id)).shipment.status).toBe('SHIPPED');
    const ok = await pushTo(settled);
    expect(await ok.text()).toBe('success');
    expect((await adminOrder(order.id)).shipment.status).toBe('COMPLETED');
  });

  it('refuses a plaintext push however well signed (its signature covers no body), and changes nothing', async () => {
    const { order } = await paidOrder();
    await ship(order.id, { logisticsType: 'virtual' });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const body = JSON.stringify({
      Event: 'trade_manage_order_settlement',
      merchant_trade_no: order.outTradeNo,
      settlement_time: Number(timestamp),
    });
    // The triple a safe-mode push carries in its URL (and so in any access log), reused with a body of the attacker's choosing.
    const url = `${sys.api}/api/wechat/messages?${new URLSearchParams({ signature: pushSignature(env.WECHAT_MESSAGE_TOKEN!, timestamp, '7'), timestamp, nonce: '7', openid: 'o_system' })}`;
    const res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/safe mode/);
    expect((await adminOrder(order.id)).shipment.status).toBe('SHIPPED');
  });

  it('refuses a safe-mode push replayed within the window: its timestamp and nonce were used', async () => {
    const { order } = await paidOrder();
    const remind = { Event: 'trade_manage_remind_shipping', merchant_trade_no: order.outTradeNo, transaction_id: 't1' };
    const first = await pushTo(remind, { nonce: 'replayed-nonce-1' });
    expect(await first.text()).toBe('success');
    const again = await pushTo(remind, { nonce: 'replayed-nonce-1', timestamp: Number(new URL(first.url).searchParams.get('timestamp')) });
    expect(again.status).toBe(401);
    expect(await again.text()).toMatch(/already received/);
    expect(await sys.server.store.claimOnce('push:probe', Date.now() + 1000, Date.now())).toBe(true); // the store remembers, as every worker sees it
  });

  it('counts refused pushes by reason and logs only a sample of them', async () => {
    const before = sys.logs.filter((l) => l.includes('message push refused')).length;
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () => pushTo({ Event: 'x' }, { badSignature: true }).then((r) => r.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(sys.logs.filter((l) => l.includes('message push refused')).length - before).toBeLessThanOrEqual(5);
    const metrics = await (await fetch(`${sys.api}/metrics`, { headers: { Authorization: `Bearer ${sys.adminToken}` } })).text();
    expect(Number(/wechat_message_pushes_refused_total\{reason="MSG_SIGNATURE"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(30);
  });

  it("surfaces WeChat's reminder about an order unshipped for 48 hours on the ops page", async () => {
    const { order } = await paidOrder();
    expect((await sandbox('POST', '/remind-shipping', { merchant_trade_no: order.outTradeNo })).status).toBe(200);
    const cookie = (
      await fetch(`${sys.api}/admin/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `token=${encodeURIComponent(sys.adminToken)}`,
      })
    ).headers
      .get('set-cookie')!
      .split(';')[0]!;
    let html = '';
    for (let i = 0; i < 50 && !html.includes(order.outTradeNo); i++) {
      html = await (await fetch(`${sys.api}/admin`, { headers: { Cookie: cookie } })).text();
      if (!html.includes(order.outTradeNo)) await new Promise((r) => setTimeout(r, 20));
    }
    expect(html).toContain('微信催发货');
    expect(html).toContain(`<a href="/admin/orders/${order.id}">${order.outTradeNo}</a>`);
  });

  it("the shopper confirms receipt through the component's stand-in: the settlement push completes the order", async () => {
    const { order, token } = await paidOrder();
    await ship(order.id, { logisticsType: 'express', packages: [{ carrier: 'JD', trackingNo: 'JD9' }] });
    const confirm = await sandbox('POST', '/confirm-receipt', { merchant_id: env.WECHATPAY_MCHID, merchant_trade_no: order.outTradeNo });
    expect(confirm.body).toMatchObject({ appId: 'wx1183b055aeec94d1', extraData: { status: 'success' } });
    let status = '';
    for (let i = 0; i < 100 && status !== 'COMPLETED'; i++) {
      status = (await sys.request('GET', `/api/orders/${order.id}`, { token })).body.order.shipment.status;
      if (status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe('COMPLETED');
  });

  it('a dropped settlement push is learned through get_order', async () => {
    const { order, token } = await paidOrder();
    await ship(order.id, { logisticsType: 'express', packages: [{ carrier: 'JD', trackingNo: 'JD10' }] });
    await sandbox('POST', '/shipping-controls', { dropMessagePushes: 1 });
    await sandbox('POST', '/confirm-receipt', { merchant_id: env.WECHATPAY_MCHID, merchant_trade_no: order.outTradeNo });
    expect((await sys.request('GET', `/api/orders/${order.id}`, { token })).body.order.shipment.status).toBe('SHIPPED');
    // The shopper's return from the component asks the server, which asks WeChat.
    const back = await sys.request('POST', `/api/orders/${order.id}/receipt`, { token });
    expect(back.body.order.shipment.status).toBe('COMPLETED');
  });

  it('reconciliation also learns it without the shopper', async () => {
    const { order } = await paidOrder();
    await ship(order.id, { logisticsType: 'express', packages: [{ carrier: 'JD', trackingNo: 'JD11' }] });
    await sandbox('POST', '/shipping-controls', { dropMessagePushes: 1 });
    await sandbox('POST', '/confirm-receipt', { merchant_id: env.WECHATPAY_MCHID, merchant_trade_no: order.outTradeNo });
    const report = await sys.server.reconcileNow();
    expect(report.shipments.moved).toBeGreaterThanOrEqual(1);
    expect((await adminOrder(order.id)).shipment).toMatchObject({ status: 'COMPLETED', wechatState: 4 });
  });
});

describe("the sandbox's get_order_list", () => {
  it("pages a shopper's orders with the cursor, filtered by state and openid", async () => {
    const tok = (await (
      await fetch(`${env.WECHAT_API_BASE}/cgi-bin/stable_token`, {
        method: 'POST',
        body: JSON.stringify({ grant_type: 'client_credential', appid: env.WECHAT_APPID, secret: env.WECHAT_APP_SECRET }),
      })
    ).json()) as { access_token: string };
    const list = async (body: object) =>
      (await (
        await fetch(`${env.WECHAT_API_BASE}/wxa/sec/order/get_order_list?access_token=${tok.access_token}`, {
          method: 'POST',
          body: JSON.stringify(body),
        })
      ).json()) as any;
    const user = `lister-${Date.now()}`;
    const token = await sys.login(user);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { order, payment } = await sys.checkout(token);
      await sys.pay(payment, 'success');
      made.push(order.outTradeNo);
    }
    const openid = (await list({ page_size: 100 })).order_list.find((o: any) => o.merchant_trade_no === made[0]).openid;
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const r = await list({ openid, page_size: 2, ...(cursor ? { last_index: cursor } : {}) });
      expect(r.errcode).toBe(0);
      seen.push(...r.order_list.map((o: any) => o.merchant_trade_no));
      cursor = r.last_index;
      if (!r.has_more) break;
    }
    expect(seen.sort()).toEqual([...made].sort());
    expect((await list({ openid, order_state: 2 })).order_list).toEqual([]);
  });
});

describe("black-box, as a merchant client written against WeChat's documented API", () => {
  it('sees order_state 2 and our tracking number after the operator ships, and 3 or later after the shopper confirms', async () => {
    const proc = await startSystemProcess({ RECONCILE_INTERVAL_SECONDS: '0' });
    try {
      const creds = util.parseEnv(fs.readFileSync(path.join(proc.dataDir, 'sandbox', 'sandbox.env'), 'utf8')) as Record<string, string>;
      const { order } = await proc.paidOrder();
      expect(
        (
          await proc.admin('POST', `/orders/${order.id}/shipments`, {
            logisticsType: 'express',
            packages: [{ carrier: 'ZTO', trackingNo: 'ZTO777' }],
          })
        ).status,
      ).toBe(201);
      // The merchant's own client: stable_token, then get_order.
      const base = creds.WECHAT_API_BASE!;
      const tok = (await (
        await fetch(`${base}/cgi-bin/stable_token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ grant_type: 'client_credential', appid: creds.WECHAT_APPID, secret: creds.WECHAT_APP_SECRET }),
        })
      ).json()) as { access_token: string; expires_in: number };
      expect(tok.expires_in).toBeGreaterThanOrEqual(300);
      const getOrder = async () =>
        (await (
          await fetch(`${base}/wxa/sec/order/get_order?access_token=${tok.access_token}`, {
            method: 'POST',
            body: JSON.stringify({ merchant_id: creds.WECHATPAY_MCHID, merchant_trade_no: order.outTradeNo }),
          })
        ).json()) as { errcode: number; order: { order_state: number; shipping: { shipping_list: { tracking_no: string }[] } } };
      const shipped = await getOrder();
      expect(shipped.errcode).toBe(0);
      expect(shipped.order.order_state).toBe(2);
      expect(shipped.order.shipping.shipping_list[0]!.tracking_no).toBe('ZTO777');
      await proc.http('POST', `${proc.sandbox}/sandbox/confirm-receipt`, {
        body: { merchant_id: creds.WECHATPAY_MCHID, merchant_trade_no: order.outTradeNo },
      });
      expect((await getOrder()).order.order_state).toBeGreaterThanOrEqual(3);
    } finally {
      await proc.stop();
    }
  });
});
