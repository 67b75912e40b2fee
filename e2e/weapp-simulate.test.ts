// @vitest-environment jsdom
// The compiled mini program, run in Node: `dist/weapp-sim` (a sandbox-mode build of client/) loaded by
// the official miniprogram-simulate against the real server and sandbox (e2e/weapp-harness.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystemProcess, type SystemProcess } from '../server/test/system-process';
import { startWeapp, type WeappHarness } from './weapp-harness';

let sys: SystemProcess;
let w: WeappHarness;

beforeAll(async () => {
  sys = await startSystemProcess();
  w = await startWeapp(sys, { outDir: 'weapp-sim', paymentMode: 'sandbox' });
}, 180_000);
afterAll(() => sys?.stop());

describe('the compiled mini program in miniprogram-simulate', () => {
  it('launch → silent login → checkout (+, total) → pay in the sandbox sheet → result paid', async () => {
    const checkout = w.open('pages/checkout/index');
    await w.until(() => w.text(checkout).includes('陶瓷马克杯'), 'the catalog');
    await w.until(() => Boolean(w.storage.get('checkout.token')), 'the silent login');
    expect(w.text(checkout)).toContain('请选择商品');
    w.tap(checkout, '+', '陶瓷马克杯350ml');
    await w.until(() => w.text(checkout).includes('微信支付 ¥45.00'), 'the total after one tap on +');
    w.tap(checkout, '+', '陶瓷马克杯350ml'); // a second tap, after the first has rendered, as a finger would
    await w.until(() => w.text(checkout).includes('微信支付 ¥90.00'), 'the total after two taps on +');
    w.modalAnswers.push(true); // sandbox mode's sheet: 确认支付
    w.tap(checkout, '微信支付 ¥90.00');
    await w.until(() => w.navigations.some((n) => n.url.startsWith('/pages/result/index')), 'the result page');
    const params = w.query(w.lastNav().url);
    expect(params.outcome).toBe('ok');
    const result = w.open('pages/result/index', params);
    await w.until(() => w.text(result).includes('支付成功'), 'paid', 15_000);
    expect(w.text(result)).toContain('¥90.00');
    expect(
      (await sys.http('GET', `/api/orders/${params.id}`, { token: w.storage.get('checkout.token') as string })).body.order.status,
    ).toBe('PAID');
  });

  it('a paid order the shopper complained about shows 投诉处理中 on its page, until the complaint is resolved', async () => {
    const token = w.storage.get('checkout.token') as string;
    const created = await sys.http('POST', '/api/orders', { token, body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] } });
    expect((await sys.pay(created.body.payment)).errMsg).toBe('requestPayment:ok');
    const id = created.body.order.id as string;
    const outTradeNo = created.body.order.outTradeNo as string;
    const poll = async (check: () => Promise<boolean>, what: string) => {
      for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
      if (!(await check())) throw new Error(`timed out waiting for ${what}`);
    };
    await poll(async () => (await sys.http('GET', `/api/orders/${id}`, { token })).body.order.status === 'PAID', 'paid');
    const filed = await sys.http('POST', `${sys.sandbox}/sandbox/controls`, {
      body: { fileComplaint: { outTradeNo, source: 'PAY', refundAmount: 100 } },
    });
    const complaintId = `PAY:${filed.body.complaint.id}`;
    await poll(async () => (await sys.admin('GET', `/complaints/${complaintId}`)).status === 200, 'the complaint');
    const result = w.open('pages/result/index', { id, outcome: 'ok' });
    await w.until(() => w.text(result).includes('投诉处理中'), 'the complaint on the order page', 15_000);
    // Rejecting the refund resolves a WeChat Pay complaint.
    expect((await sys.admin('POST', `/complaints/${complaintId}/refund-decision`, { approve: false, reason: '已按约定发货' })).status).toBe(
      200,
    );
    const again = w.open('pages/result/index', { id, outcome: 'ok' });
    await w.until(() => w.text(again).includes('支付成功'), 'paid', 15_000);
    expect(w.text(again)).not.toContain('投诉处理中');
  });

  it('pay → the subscription dialog from the payment callback → accept → ship → exactly one 已发货 message; reject → none', async () => {
    const user = w.storage.get('checkout.sandboxUser') as string;
    const messages = async () =>
      (await sys.http('GET', `${sys.sandbox}/sandbox/subscribe-messages?user=${user}`)).body.messages as {
        templateId: string;
        data: Record<string, { value: string }>;
      }[];
    const templates = (await sys.http('GET', '/api/subscribe-templates')).body.templates as Record<string, string>;
    const poll = async (check: () => Promise<boolean>, what: string) => {
      for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
      if (!(await check())) throw new Error(`timed out waiting for ${what}`);
    };
    const before = (await messages()).length;
    const buy = async (accept: boolean) => {
      const checkout = w.open('pages/checkout/index');
      await w.until(() => w.text(checkout).includes('挂耳咖啡 10 包'), 'the catalog');
      w.tap(checkout, '+', '挂耳咖啡 10 包办公室');
      await w.until(() => w.text(checkout).includes('微信支付 ¥39.90'), 'the total');
      const shown = w.modals.length;
      const navs = w.navigations.length;
      w.modalAnswers.push(true, accept); // 确认支付, then the subscription dialog
      w.tap(checkout, '微信支付 ¥39.90');
      await w.until(() => w.navigations.length > navs && w.lastNav().url.includes('outcome=ok'), 'the paid result');
      // The dialog came after the sheet, from the payment callback: never on page load.
      expect(w.modals.slice(shown)).toEqual(['沙箱支付', '订阅消息']);
      const params = w.query(w.lastNav().url);
      const result = w.open('pages/result/index', params); // as the navigation does: paid, the cart is cleared
      await w.until(() => w.text(result).includes('支付成功'), 'paid', 15_000);
      return params.id!;
    };
    const accepted = await buy(true);
    await poll(async () => (await messages()).length === before + 1, 'the 支付成功 message');
    expect((await messages()).at(-1)!.templateId).toBe(templates.paid);
    const shipped = await sys.admin('POST', `/orders/${accepted}/shipments`, {
      logisticsType: 'express',
      packages: [{ carrier: 'YD', trackingNo: 'YD9876543210' }],
    });
    expect(shipped.status).toBe(201);
    await poll(async () => (await messages()).length === before + 2, 'the 已发货 message');
    const ship = (await messages()).filter((m) => m.templateId === templates.shipped);
    expect(ship).toHaveLength(1);
    expect(ship[0]!.data.character_string3!.value).toBe('YD9876543210');

    const rejected = await buy(false);
    await sys.admin('POST', `/orders/${rejected}/shipments`, {
      logisticsType: 'express',
      packages: [{ carrier: 'YD', trackingNo: 'YD1111111111' }],
    });
    await new Promise((r) => setTimeout(r, 2500)); // more than a round of the sender
    expect(await messages()).toHaveLength(before + 2);
    const order = (await sys.http('GET', `/api/orders/${rejected}`, { token: w.storage.get('checkout.token') as string })).body.order;
    expect(order.status).toBe('PAID');
    expect(order.shipment.status).toBe('SHIPPED');
  });

  it('cancel in the sheet → the result page offers Retry → Retry → paid', async () => {
    const checkout = w.open('pages/checkout/index');
    await w.until(() => w.text(checkout).includes('挂耳咖啡 10 包'), 'the catalog');
    w.tap(checkout, '+', '挂耳咖啡 10 包办公室');
    await w.until(() => w.text(checkout).includes('微信支付 ¥39.90'), 'the total');
    w.modalAnswers.push(false); // 取消
    w.tap(checkout, '微信支付 ¥39.90');
    await w.until(() => w.lastNav()?.url.includes('outcome=cancel'), 'the cancelled result');
    const params = w.query(w.lastNav().url);
    const result = w.open('pages/result/index', params);
    await w.until(() => w.text(result).includes('支付已取消'), 'the cancelled page');
    w.modalAnswers.push(true);
    w.tap(result, '重新支付');
    await w.until(() => w.text(result).includes('支付成功'), 'paid after Retry', 15_000);
  });
});
