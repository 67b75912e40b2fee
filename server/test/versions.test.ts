// One suite, every API version: v3 (RSA), v2 with MD5 (the seed's signType) and v2 with HMAC-SHA256.
// The full flow, Retry, reconciliation, refunds and the notification refusals, over real HTTP against
// the sandbox speaking that version.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNotification } from '../../sandbox/notify';
import { buildV2Xml } from '../src/wechatpay/v2/xml';
import { credentialsOf, startTestSystem, waitFor, type TestSystem } from './helpers';

const VERSIONS = [
  { name: 'v3', env: { WECHATPAY_API_VERSION: 'v3' }, signType: 'RSA' },
  { name: 'v2 (MD5)', env: { WECHATPAY_API_VERSION: 'v2', WECHATPAY_V2_SIGN_TYPE: 'MD5' }, signType: 'MD5' },
  { name: 'v2 (HMAC-SHA256)', env: { WECHATPAY_API_VERSION: 'v2', WECHATPAY_V2_SIGN_TYPE: 'HMAC-SHA256' }, signType: 'HMAC-SHA256' },
] as const;

/** The v2 algorithm written out again, independently of the server's, from the documentation. */
function independentV2Sign(fields: Record<string, string>, key: string, type: string): string {
  const text = `${Object.keys(fields)
    .filter((k) => k !== 'sign' && fields[k] !== '')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&')}&key=${key}`;
  return (type === 'MD5' ? crypto.createHash('md5').update(text) : crypto.createHmac('sha256', key).update(text))
    .digest('hex')
    .toUpperCase();
}

for (const version of VERSIONS) {
  describe(`API ${version.name}`, () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    let sys: TestSystem;
    let env: Record<string, string>;
    const v2 = version.name !== 'v3';

    beforeAll(async () => {
      sys = await startTestSystem({
        env: {
          ...version.env,
          RECONCILE_INTERVAL_SECONDS: '0',
          RECONCILE_MIN_AGE_SECONDS: '0',
          ORDER_QUERY_THROTTLE_MS: '600000',
          ORDER_PAY_WINDOW_MINUTES: '600',
        },
        system: { clock, controls: { timeScale: 0.001 } },
      });
      env = credentialsOf(sys.dataDir);
    });
    afterAll(() => sys.close());

    const view = async (token: string, id: string) => (await sys.request('GET', `/api/orders/${id}`, { token })).body.order;
    const admin = (method: string, path: string, body?: unknown) =>
      sys.request(method, `/api/admin${path}`, { body, headers: { Authorization: `Bearer ${sys.adminToken}` } });

    /** A notification as WeChat would send it for this version, for `order` (fields overridable). */
    function notification(
      order: { outTradeNo: string; total: number },
      over: Record<string, string | number> = {},
    ): { body: string; headers: Record<string, string> } {
      const keys = JSON.parse(require('node:fs').readFileSync(`${sys.dataDir}/sandbox/keys.json`, 'utf8'));
      if (!v2) {
        const tx = {
          appid: env.WECHAT_APPID,
          mchid: env.WECHATPAY_MCHID,
          out_trade_no: order.outTradeNo,
          transaction_id: '4200000000202611300000008888',
          trade_state: 'SUCCESS',
          amount: { total: order.total, currency: 'CNY' },
          ...over,
        };
        if ('total' in over) tx.amount = { total: Number(over.total), currency: 'CNY' };
        return buildNotification({ apiV3Key: keys.apiV3Key, signer: sys.sandbox.signer(), transaction: tx, nowMs: clock.now() });
      }
      const fields: Record<string, string> = {
        return_code: 'SUCCESS',
        appid: env.WECHAT_APPID!,
        mch_id: env.WECHATPAY_MCHID!,
        nonce_str: crypto.randomBytes(8).toString('hex'),
        sign_type: version.signType,
        result_code: 'SUCCESS',
        openid: 'oTest',
        trade_type: 'JSAPI',
        total_fee: String(order.total),
        fee_type: 'CNY',
        transaction_id: '4200000000202611300000008888',
        out_trade_no: order.outTradeNo,
        time_end: '20261130120000',
        ...Object.fromEntries(
          Object.entries(over).map(([k, v]) => [k === 'mchid' ? 'mch_id' : k === 'total' ? 'total_fee' : k, String(v)]),
        ),
      };
      fields.sign = independentV2Sign(fields, env.WECHATPAY_APIV2_KEY!, version.signType);
      return { body: buildV2Xml(fields), headers: { 'Content-Type': 'text/xml' } };
    }
    const send = async (d: { body: string; headers: Record<string, string> }) => {
      const res = await fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: d.body, headers: d.headers });
      return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
    };

    it(`pays: the sheet carries signType ${version.signType} and a paySign an independent computation reproduces`, async () => {
      const token = await sys.login();
      const { order, payment } = await sys.checkout(token, [{ sku: 'MUG-CERAMIC', quantity: 2 }]);
      expect(payment.signType).toBe(version.signType);
      expect(Object.keys(payment).sort()).toEqual(['nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
      if (v2) {
        const fields = {
          appId: env.WECHAT_APPID!,
          nonceStr: payment.nonceStr,
          package: payment.package,
          signType: payment.signType,
          timeStamp: payment.timeStamp,
        };
        expect(payment.paySign).toBe(independentV2Sign(fields, env.WECHATPAY_APIV2_KEY!, version.signType));
      } else {
        const message = `${env.WECHAT_APPID}\n${payment.timeStamp}\n${payment.nonceStr}\n${payment.package}\n`;
        const publicKey = crypto.createPublicKey(
          crypto.createPrivateKey(require('node:fs').readFileSync(env.WECHATPAY_PRIVATE_KEY_FILE!, 'utf8')),
        );
        expect(crypto.verify('sha256', Buffer.from(message), publicKey, Buffer.from(payment.paySign, 'base64'))).toBe(true);
      }
      // The notification comes late (as it may): the result page's read confirms the order by a query first.
      sys.sandbox.controls.notificationDelayMs = 300;
      try {
        expect((await sys.pay(payment)).body.errMsg).toBe('requestPayment:ok');
      } finally {
        sys.sandbox.controls.notificationDelayMs = 0;
      }
      const paid = await waitFor(async () => ((await view(token, order.id)).status === 'PAID' ? view(token, order.id) : null));
      expect(paid.transactionId).toMatch(/^42000\d{23}$/);
      // The notification was answered as this version expects. The order may have been confirmed by the
      // read's query before the delivery's answer reached the sandbox: wait for the delivery itself.
      const answered = await waitFor(async () => sys.sandbox.deliveries.filter((d) => d.outTradeNo === order.outTradeNo).at(-1));
      expect(answered.status).toBe(v2 ? 200 : 204);
    });

    it('cancel, then Retry pays the same order; Retry after expiry re-posts or takes a new out_trade_no', async () => {
      const token = await sys.login();
      const { order, payment } = await sys.checkout(token);
      expect((await sys.pay(payment, 'cancel')).body.errMsg).toBe('requestPayment:fail cancel');
      const retry = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
      expect(retry.status).toBe(200);
      expect(retry.body.order.outTradeNo).toBe(order.outTradeNo);
      offset += 2 * 3600_000; // the prepay_id has expired
      sys.sandbox.controls.failPrepay = { status: 403, code: 'OUT_TRADE_NO_USED', message: '商户订单号重复', times: 1 };
      const renewed = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
      offset -= 2 * 3600_000;
      expect(renewed.status).toBe(200);
      expect(renewed.body.order.outTradeNo).not.toBe(order.outTradeNo);
      expect(sys.sandbox.orderState(order.outTradeNo)).toBe('CLOSED');
      expect((await sys.pay(renewed.body.payment)).body.errMsg).toBe('requestPayment:ok');
      await waitFor(async () => (await view(token, order.id)).status === 'PAID');
    });

    it('reconciliation pays an order whose notification was dropped, and closes an overdue one at WeChat first', async () => {
      const token = await sys.login();
      const paid = await sys.checkout(token);
      sys.sandbox.controls.dropNotifications = 1;
      await sys.pay(paid.payment);
      const unpaid = await sys.checkout(token);
      offset += 601 * 60_000; // past the pay window
      try {
        const report = await sys.server.reconcileNow();
        expect(report.paid).toBeGreaterThanOrEqual(1);
        expect(report.closed).toBeGreaterThanOrEqual(1);
        expect((await view(token, paid.order.id)).status).toBe('PAID');
        expect((await view(token, unpaid.order.id)).status).toBe('CLOSED');
        expect(sys.sandbox.orderState(unpaid.order.outTradeNo)).toBe('CLOSED');
      } finally {
        offset -= 601 * 60_000;
      }
    });

    it('refunds part, then the rest (v2: over mutual TLS with the merchant certificate); a dropped refund notification ends SUCCESS by reconciliation', async () => {
      const token = await sys.login();
      const { order, payment } = await sys.checkout(token, [{ sku: 'MUG-CERAMIC', quantity: 2 }]);
      await sys.pay(payment);
      await waitFor(async () => (await view(token, order.id)).status === 'PAID');
      const first = await admin('POST', `/orders/${order.id}/refunds`, { amount: 3000, reason: '少发一件' });
      expect(first.status).toBe(201);
      await waitFor(async () => (await sys.server.store.findRefund(first.body.refund.outRefundNo))?.status === 'SUCCESS');
      expect(await view(token, order.id)).toMatchObject({ refundedTotal: 3000 });
      expect((await admin('POST', `/orders/${order.id}/refunds`, { amount: 6001 })).body.error.field).toBe('amount');
      sys.sandbox.controls.dropRefundNotifications = 1;
      const rest = await admin('POST', `/orders/${order.id}/refunds`, { amount: 6000 });
      await waitFor(async () => sys.sandbox.refundState(rest.body.refund.outRefundNo) === 'SUCCESS');
      expect((await sys.server.store.findRefund(rest.body.refund.outRefundNo))?.status).toBe('PROCESSING');
      expect((await sys.server.reconcileNow()).refunds.settled).toBeGreaterThanOrEqual(1);
      expect(await view(token, order.id)).toMatchObject({ refundedTotal: 9000, refunds: [{ status: 'SUCCESS' }, { status: 'SUCCESS' }] });
    });

    it("refuses every bad notification in this version's own answer, and changes nothing", async () => {
      const token = await sys.login();
      const { order } = await sys.checkout(token);
      const fail = (text: string) =>
        v2
          ? /^<xml><return_code><!\[CDATA\[FAIL\]\]><\/return_code><return_msg><!\[CDATA\[.*\]\]><\/return_msg><\/xml>$/.test(text)
          : JSON.parse(text).code === 'FAIL';
      const good = notification(order);
      const cases: [string, { body: string; headers: Record<string, string> }, number][] = [
        [
          'a bad signature',
          v2
            ? {
                ...good,
                body: good.body.replace(
                  /<sign><!\[CDATA\[[0-9A-F]+\]\]><\/sign>/,
                  '<sign><![CDATA[00000000000000000000000000000000]]></sign>',
                ),
              }
            : { ...good, headers: { ...good.headers, 'Wechatpay-Signature': Buffer.alloc(256, 1).toString('base64') } },
          401,
        ],
        ['a wrong amount', notification(order, { total: 1 }), 204],
        ['a wrong appid', notification(order, { appid: 'wx0000000000000000' }), 400],
        ['a wrong mch_id', notification(order, { mchid: '1900000000' }), 400],
        [
          'malformed XML or JSON',
          { body: v2 ? '<xml><return_code>SUCCESS</return_code' : '{"id":', headers: good.headers },
          v2 ? 400 : 401,
        ],
        [
          'XML entity expansion',
          {
            body: '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><xml><return_code>&lol2;</return_code></xml>',
            headers: v2 ? { 'Content-Type': 'text/xml' } : good.headers,
          },
          v2 ? 400 : 401,
        ],
        ['an oversized body', { body: `<xml><a>${'x'.repeat(70_000)}</a></xml>`, headers: { 'Content-Type': 'text/xml' } }, 413],
      ];
      for (const [name, d, expected] of cases) {
        const r = await send(d);
        // A wrong amount is recorded and acknowledged (WeChat must stop), never paid.
        const want = name === 'a wrong amount' && v2 ? 200 : expected;
        expect(r.status, name).toBe(want);
        if (want >= 400) expect(fail(r.text), `${name}: ${r.text}`).toBe(true);
        if (v2) expect(r.type, name).toMatch(/text\/xml/);
        expect((await view(token, order.id)).status, name).toBe('PENDING');
      }
      // The genuine one pays, and is answered exactly as this version wants.
      const ok = await send(good);
      expect(ok.status).toBe(v2 ? 200 : 204);
      if (v2) expect(ok.text).toBe('<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>');
      expect((await view(token, order.id)).status).toBe('PAID');
    });
  });
}
