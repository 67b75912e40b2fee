// @vitest-environment jsdom
// The compiled mini program as released (payment mode `wechat`: real wx.login, wx.requestPayment and
// wx.openBusinessView), in miniprogram-simulate against the real server and sandbox: a shipped
// order's 确认收货 opens WeChat's confirm-receipt component with the order's ids, and coming back from
// it makes the page ask the server, which asks WeChat. The WeChat app is stood in for by wx.* only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestOverHttp } from '../client/test/http-request';
import { startSystemProcess, type SystemProcess } from '../server/test/system-process';
import { ok, startWeapp, type WeappHarness } from './weapp-harness';

const SHOPPER = 'receipt-shopper';
let sys: SystemProcess;
let w: WeappHarness;
const businessViews: Record<string, unknown>[] = [];
/** wx.requestSubscribeMessage's calls, and whether each came inside wx.requestPayment's success callback. */
const subscribeCalls: { tmplIds: string[]; inPaymentCallback: boolean }[] = [];
let inPaymentCallback = false;

beforeAll(async () => {
  sys = await startSystemProcess({ RECONCILE_INTERVAL_SECONDS: '0' });
  w = await startWeapp(sys, {
    outDir: 'weapp-sim-wechat',
    paymentMode: 'wechat',
    wx: {
      // The WeChat app logs the shopper in: a code for the same sandbox user every time.
      login: (o: any) => {
        void requestOverHttp({
          url: `${sys.sandbox}/sandbox/login`,
          method: 'POST',
          data: { user: SHOPPER },
          header: { 'Content-Type': 'application/json' },
        }).then((res) => ok('login', { code: (res.data as { code: string }).code })(o));
      },
      openBusinessView: (o: any) => {
        businessViews.push({ businessType: o.businessType, extraData: o.extraData });
        return ok('openBusinessView')(o);
      },
      setClipboardData: ok('setClipboardData'),
      // The WeChat app's payment sheet: paid through the sandbox, then the success callback.
      requestPayment: (o: any) => {
        void requestOverHttp({
          url: `${sys.sandbox}/sandbox/pay`,
          method: 'POST',
          data: {
            timeStamp: o.timeStamp,
            nonceStr: o.nonceStr,
            package: o.package,
            signType: o.signType,
            paySign: o.paySign,
            outcome: 'success',
          },
          header: { 'Content-Type': 'application/json' },
        }).then((res) => {
          const r = { errMsg: (res.data as { errMsg: string }).errMsg };
          if (r.errMsg !== 'requestPayment:ok') return o.fail?.(r);
          inPaymentCallback = true;
          try {
            o.success?.(r);
          } finally {
            inPaymentCallback = false;
          }
          o.complete?.(r);
        });
      },
      // The subscription dialog: the shopper accepts; WeChat records the grants (here, at the sandbox).
      requestSubscribeMessage: (o: any) => {
        subscribeCalls.push({ tmplIds: o.tmplIds, inPaymentCallback });
        const answers = Object.fromEntries((o.tmplIds as string[]).map((id) => [id, 'accept']));
        void requestOverHttp({
          url: `${sys.sandbox}/sandbox/subscribe`,
          method: 'POST',
          data: { user: SHOPPER, answers },
          header: { 'Content-Type': 'application/json' },
        }).then(() => ok('requestSubscribeMessage', answers)(o));
      },
    },
  });
}, 180_000);
afterAll(() => sys?.stop());

describe('确认收货 in the compiled mini program', () => {
  it("a shipped order's 确认收货 calls wx.openBusinessView with the order's merchant_id and merchant_trade_no; coming back, the page shows 已完成 once WeChat says so", async () => {
    // A paid order of this shopper, shipped by the operator.
    const { order } = await sys.paidOrder(SHOPPER);
    expect(
      (
        await sys.admin('POST', `/orders/${order.id}/shipments`, {
          logisticsType: 'express',
          packages: [{ carrier: 'SF', trackingNo: 'SF0001112223' }],
        })
      ).status,
    ).toBe(400); // SF needs SHOP_CONTACT_PHONE
    expect(
      (
        await sys.admin('POST', `/orders/${order.id}/shipments`, {
          logisticsType: 'express',
          packages: [{ carrier: 'EMS', trackingNo: 'EM0001112223' }],
        })
      ).status,
    ).toBe(201);
    const mchid = (await sys.admin('GET', `/orders/${order.id}`)).body.shipment.merchantId as string;

    // Launch: the shop logs in silently through wx.login, then the shopper opens 我的订单.
    const shop = w.open('pages/checkout/index');
    await w.until(() => Boolean(w.storage.get('checkout.token')), 'the silent login');
    expect(w.text(shop)).toContain('陶瓷马克杯');
    const orders = w.open('pages/orders/index');
    await w.until(() => w.text(orders).includes('已发货'), 'the shipped order');
    expect(w.text(orders)).toContain('EMS EM0001112223');
    w.tap(orders, '确认收货');
    await w.until(() => businessViews.length === 1, 'wx.openBusinessView');
    expect(businessViews[0]).toEqual({
      businessType: 'weappOrderConfirm',
      extraData: { merchant_id: mchid, merchant_trade_no: order.outTradeNo },
    });

    // The shopper confirms in WeChat's component; WeChat returns to the app with referrerInfo. Its
    // settlement push is lost: only the page's question to the server (which asks WeChat) can tell.
    await sys.http('POST', `${sys.sandbox}/sandbox/shipping-controls`, { body: { dropMessagePushes: 1 } });
    await sys.http('POST', `${sys.sandbox}/sandbox/confirm-receipt`, { body: { merchant_id: mchid, merchant_trade_no: order.outTradeNo } });
    const app = w.app();
    app.onShow?.call(app, {
      path: 'pages/orders/index',
      query: {},
      referrerInfo: {
        appId: 'wx1183b055aeec94d1',
        extraData: { status: 'success', req_extradata: { merchant_id: mchid, merchant_trade_no: order.outTradeNo } },
      },
    });
    orders.instance.onShow?.call(orders.instance);
    await w.until(() => w.text(orders).includes('已完成'), 'the completed order after returning');
    // The order was never asked at payment (paid outside the app): 确认收货's tap asked for the refund notice only.
    expect(subscribeCalls).toEqual([{ tmplIds: [expect.any(String)], inPaymentCallback: false }]);
  });

  it("wechat mode: the subscription request comes from inside wx.requestPayment's success callback, and the accepted 支付成功 is delivered", async () => {
    const checkout = w.open('pages/checkout/index');
    await w.until(() => w.text(checkout).includes('贴纸一套'), 'the catalog');
    w.tap(checkout, '+', '贴纸一套随单附赠的小惊喜');
    await w.until(() => w.text(checkout).includes('微信支付 ¥0.01'), 'the total');
    const calls = subscribeCalls.length;
    const navs = w.navigations.length;
    w.tap(checkout, '微信支付 ¥0.01');
    await w.until(() => w.navigations.length > navs && w.lastNav().url.includes('outcome=ok'), 'the paid result');
    expect(subscribeCalls.slice(calls)).toEqual([
      { tmplIds: [expect.any(String), expect.any(String), expect.any(String)], inPaymentCallback: true },
    ]);
    const id = w.query(w.lastNav().url).id!;
    const messages = async () =>
      ((await sys.http('GET', `${sys.sandbox}/sandbox/subscribe-messages?user=${SHOPPER}`)).body.messages as {
        data: Record<string, { value: string }>;
      }[]) ?? [];
    for (let i = 0; i < 100 && (await messages()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const [paid] = await messages();
    expect(paid!.data.amount2!.value).toBe('¥0.01');
    expect((await sys.admin('GET', `/orders/${id}`)).body.order.status).toBe('PAID');
  });
});
