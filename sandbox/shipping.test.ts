// The sandbox's token service and shipping-info API follow WeChat's documented rules (shipping.md §2, §7).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from './app';
import { generateSandboxKeys } from './keys';

const keys = generateSandboxKeys();
let now = Date.now();
let sandbox: Sandbox;
let server: http.Server;
let base: string;

beforeAll(async () => {
  sandbox = createSandbox({ keys, now: () => now, controls: { timeScale: 0.001 } });
  server = http.createServer(sandbox.app).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  sandbox.stop();
  server.close();
});

const post = async (path: string, body?: unknown) =>
  (
    await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  ).json() as Promise<any>;
const stable = (extra: Record<string, unknown> = {}) =>
  post('/cgi-bin/stable_token', { grant_type: 'client_credential', appid: keys.appid, secret: keys.appSecret, ...extra });

describe('access tokens', () => {
  it('stable_token: the same token in normal mode; force_refresh rotates, at most once per 30 s; the old one overlaps 5 minutes', async () => {
    const a = await stable();
    expect(a.expires_in).toBeGreaterThanOrEqual(300);
    expect((await stable()).access_token).toBe(a.access_token);
    const b = await stable({ force_refresh: true });
    expect(b.access_token).not.toBe(a.access_token);
    expect((await stable({ force_refresh: true })).access_token).toBe(b.access_token); // too soon: no refresh
    // The old token still works during the overlap, then is "not latest".
    expect((await post(`/wxa/sec/order/is_trade_managed?access_token=${a.access_token}`, { appid: keys.appid })).is_trade_managed).toBe(
      true,
    );
    now += 6 * 60_000;
    expect((await post(`/wxa/sec/order/is_trade_managed?access_token=${a.access_token}`, { appid: keys.appid })).errcode).toBe(40001);
    now += 30_000;
    expect((await stable({ force_refresh: true })).access_token).not.toBe(b.access_token);
  });

  it('refuses what WeChat refuses, with its errcodes', async () => {
    expect((await stable({ secret: 'wrong' })).errcode).toBe(40125);
    expect((await stable({ appid: 'wx0000000000000000' })).errcode).toBe(40013);
    expect((await post('/cgi-bin/stable_token', { appid: keys.appid, secret: keys.appSecret })).errcode).toBe(40002);
    expect(((await (await fetch(`${base}/cgi-bin/stable_token`)).json()) as any).errcode).toBe(43002);
    const t = (await stable()).access_token;
    expect((await post('/wxa/sec/order/get_order', { transaction_id: 'x' })).errcode).toBe(41001);
    expect((await post('/wxa/sec/order/get_order?access_token=nope', { transaction_id: 'x' })).errcode).toBe(40001);
    expect((await post(`/wxa/sec/order/get_order?access_token=${t}`)).errcode).toBe(44002);
    expect((await post(`/wxa/sec/order/get_order?access_token=${t}`, {})).errcode).toBe(10060014);
    expect((await post(`/wxa/sec/order/get_order?access_token=${t}`, { transaction_id: '4200000000000000' })).errcode).toBe(10060001);
    expect((await post(`/wxa/sec/order/upload_shipping_info?access_token=${t}`, { order_key: { order_number_type: 3 } })).errcode).toBe(
      268485194,
    );
    expect(
      (
        await post(`/wxa/sec/order/upload_shipping_info?access_token=${t}`, {
          order_key: { order_number_type: 2, transaction_id: 'x' },
          delivery_mode: 'UNIFIED_DELIVERY',
        })
      ).errcode,
    ).toBe(268485224);
    expect(
      (
        await post(`/wxa/sec/order/upload_shipping_info?access_token=${t}`, {
          order_key: { order_number_type: 2, transaction_id: 'x' },
          delivery_mode: 1,
          shipping_list: {},
        })
      ).errcode,
    ).toBe(47001);
    sandbox.shipping.expireTokens();
    const e = await post(`/wxa/sec/order/get_order?access_token=${t}`, { transaction_id: 'x' });
    expect(e.errcode).toBe(42001);
    expect(e.errmsg).toMatch(/ rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
  });

  it("/cgi-bin/token rotates on every call, and its tokens are not stable_token's", async () => {
    const get = async () =>
      (await (
        await fetch(`${base}/cgi-bin/token?grant_type=client_credential&appid=${keys.appid}&secret=${keys.appSecret}`)
      ).json()) as any;
    const a = await get();
    const b = await get();
    expect(a.access_token).not.toBe(b.access_token);
    expect((await post(`/wxa/sec/order/is_trade_managed?access_token=${a.access_token}`, { appid: keys.appid })).is_trade_managed).toBe(
      true,
    );
    expect((await stable()).access_token).not.toBe(b.access_token);
  });

  it('get_order_list pages with an opaque cursor and refuses a forged one', async () => {
    const t = (await stable()).access_token;
    const first = await post(`/wxa/sec/order/get_order_list?access_token=${t}`, { page_size: 1 });
    expect(first).toMatchObject({ errcode: 0, order_list: [], has_more: false });
    expect(typeof first.last_index).toBe('string');
    expect((await post(`/wxa/sec/order/get_order_list?access_token=${t}`, { last_index: 'garbage' })).errcode).toBe(10060011);
  });

  it('lists carriers, SF among them', async () => {
    const t = (await stable()).access_token;
    const list = await post(`/cgi-bin/express/delivery/open_msg/get_delivery_list?access_token=${t}`, {});
    expect(list.delivery_list.map((d: { delivery_id: string }) => d.delivery_id)).toEqual(
      expect.arrayContaining(['SF', 'YTO', 'ZTO', 'STO', 'YD', 'JTSD', 'DHL']),
    );
    expect(list.count).toBe(list.delivery_list.length);
  });
});
