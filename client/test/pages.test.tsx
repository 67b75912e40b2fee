// The three pages in happy-dom against the real server and sandbox (in a child process).
import { act, cleanup, configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import Database from 'better-sqlite3';
import path from 'node:path';
import type { ComponentType } from 'react';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSystemProcess, type SystemProcess } from '../../server/test/system-process';
import { paramsOf, taroTest } from './taro-shim';

// The server runs in another process that may share the CPU with other suites: be patient.
configure({ asyncUtilTimeout: 5000 });

let sys: SystemProcess;
let LoginPage: ComponentType;
let CheckoutPage: ComponentType;
let ResultPage: ComponentType;
let OrdersPage: ComponentType;

beforeAll(async () => {
  sys = await startSystemProcess();
  Object.assign(globalThis, { __API_BASE__: sys.api, __SANDBOX_BASE__: sys.sandbox, __PAYMENT_MODE__: 'sandbox' });
  LoginPage = (await import('../pages/login')).default;
  CheckoutPage = (await import('../pages/checkout')).default;
  ResultPage = (await import('../pages/result')).default;
  OrdersPage = (await import('../pages/orders')).default;
});
afterAll(() => sys?.stop());
beforeEach(() => taroTest.reset());
afterEach(cleanup);

const button = (name: string | RegExp) => screen.getByRole('button', { name });
const ordersOfCurrentUser = async () =>
  (await sys.http('GET', '/api/orders', { token: taroTest.storage.get('checkout.token') as string })).body.orders;
const lastNavigation = () => taroTest.navigations.at(-1)!;

/** Renders the checkout, adds one mug, and returns when the Pay button shows the total. */
async function checkoutWithMug() {
  if (!taroTest.storage.get('checkout.token')) taroTest.storage.set('checkout.token', await sys.login()); // as the login page leaves it
  render(<CheckoutPage />);
  await screen.findByText('陶瓷马克杯');
  fireEvent.click(screen.getByLabelText('增加陶瓷马克杯'));
  return button('微信支付 ¥45.00');
}

describe('launch', () => {
  it('opens on the shop and logs in silently while it loads', async () => {
    render(<CheckoutPage />);
    await screen.findByText('陶瓷马克杯');
    await waitFor(() => expect(taroTest.storage.get('checkout.token')).toBeTruthy());
    expect(taroTest.navigations).toEqual([]); // no login page on the way
  });

  it('shows the login page only when the silent login fails', async () => {
    await sys.controls({ code2sessionErrcode: { errcode: -1, times: 1 } });
    render(<CheckoutPage />);
    await waitFor(() => expect(lastNavigation()).toEqual({ kind: 'redirectTo', url: '/pages/login/index' }));
  });
});

describe('login page', () => {
  it('logs in on launch, says so, and goes to the checkout', async () => {
    render(<LoginPage />);
    expect(screen.getByText('正在登录…')).toBeTruthy();
    await waitFor(() => expect(lastNavigation()).toEqual({ kind: 'redirectTo', url: '/pages/checkout/index' }));
    expect(taroTest.storage.get('checkout.token')).toBeTruthy();
  });

  it('says why login failed and logs in again on tap', async () => {
    await sys.controls({ code2sessionErrcode: { errcode: -1, times: 1 } });
    render(<LoginPage />);
    expect(await screen.findByRole('alert')).toHaveProperty('textContent', '登录失败：微信登录繁忙，请稍后重试');
    fireEvent.click(button('重新登录'));
    await waitFor(() => expect(lastNavigation()?.url).toBe('/pages/checkout/index'));
  });
});

describe('checkout page', () => {
  it('shows the catalog with quantities and the total in yuan from integer fen', async () => {
    render(<CheckoutPage />);
    expect(screen.getByText('正在加载商品…')).toBeTruthy();
    await screen.findByText('云南小粒咖啡豆 250g');
    expect((button('请选择商品') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByLabelText('增加挂耳咖啡 10 包'));
    fireEvent.click(screen.getByLabelText('增加挂耳咖啡 10 包'));
    fireEvent.click(screen.getByLabelText('增加贴纸一套'));
    expect(screen.getByLabelText('合计金额').textContent).toBe('¥79.81');
    fireEvent.click(screen.getByLabelText('减少贴纸一套'));
    expect(screen.getByLabelText('合计金额').textContent).toBe('¥79.80');
    expect((screen.getByLabelText('减少贴纸一套') as HTMLButtonElement).disabled).toBe(true);
  });

  it('counts every tap on + even when two arrive before the page re-renders', async () => {
    render(<CheckoutPage />);
    await screen.findByText('贴纸一套');
    const plus = screen.getByLabelText('增加贴纸一套');
    act(() => {
      // Two taps in one batch, as a quick double tap on a slow phone: the second sees the old props.
      plus.click();
      plus.click();
    });
    expect(screen.getByLabelText('贴纸一套数量').textContent).toBe('2');
    expect(screen.getByLabelText('合计金额').textContent).toBe('¥0.02');
  });

  it('pays: one request creates the order, the sheet opens, then the result page', async () => {
    taroTest.modalAnswers = [true];
    fireEvent.click(await checkoutWithMug());
    await waitFor(() => expect(lastNavigation()?.kind).toBe('navigateTo'));
    const p = paramsOf(lastNavigation().url);
    expect(p).toMatchObject({ id: expect.stringMatching(/^ord_/), outcome: 'ok' });
    expect(taroTest.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/orders'))).toHaveLength(1);
  });

  it('makes one order on a double tap: the button is disabled while paying and a key is sent', async () => {
    taroTest.modalAnswers = [false];
    const pay = await checkoutWithMug();
    await act(async () => {
      fireEvent.click(pay);
      fireEvent.click(pay);
      fireEvent.click(pay);
    });
    await waitFor(() => expect(taroTest.navigations.filter((n) => n.kind === 'navigateTo')).toHaveLength(1));
    const posts = taroTest.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/orders'));
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers['Idempotency-Key']).toMatch(/^co-/);
    expect(await ordersOfCurrentUser()).toHaveLength(1);
  });

  it('says what went wrong when the server refuses, keeps the cart, and the next tap resumes the same order', async () => {
    await sys.controls({ failPrepay: { status: 500, code: 'SYSTEM_ERROR', message: '系统错误', times: 1 } });
    taroTest.modalAnswers = [true];
    const pay = await checkoutWithMug();
    fireEvent.click(pay);
    expect((await screen.findByRole('alert')).textContent).toBe('下单失败：微信支付繁忙，订单已保存，请稍后重试');
    expect(screen.getByLabelText('合计金额').textContent).toBe('¥45.00');
    fireEvent.click(button('微信支付 ¥45.00'));
    await waitFor(() => expect(lastNavigation()?.kind).toBe('navigateTo'));
    const orders = await ordersOfCurrentUser();
    expect(orders).toHaveLength(1); // the same Idempotency-Key resumed the saved order
    expect(paramsOf(lastNavigation().url).id).toBe(orders[0].id);
  });
});

describe('result page', () => {
  async function arriveFromCheckout(answer: boolean) {
    taroTest.modalAnswers = [answer];
    fireEvent.click(await checkoutWithMug());
    await waitFor(() => expect(lastNavigation()?.kind).toBe('navigateTo'));
    cleanup();
    taroTest.routerParams = paramsOf(lastNavigation().url);
    render(<ResultPage />);
  }

  it('shows success from the server, with one primary action back to the shop', async () => {
    await arriveFromCheckout(true);
    expect(await screen.findByText('支付成功', {}, { timeout: 5000 })).toBeTruthy();
    expect(screen.getByText('¥45.00')).toBeTruthy();
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['返回商店']);
    fireEvent.click(button('返回商店'));
    expect(lastNavigation()).toEqual({ kind: 'reLaunch', url: '/pages/checkout/index' });
  });

  it('after a cancel shows the order kept, with Retry (primary) and back to shop (secondary); Retry pays the same order', async () => {
    await arriveFromCheckout(false);
    expect(await screen.findByText('支付已取消')).toBeTruthy();
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['重新支付', '返回商店']);
    const orderId = taroTest.routerParams.id;
    taroTest.modalAnswers = [true];
    fireEvent.click(button('重新支付'));
    expect(await screen.findByText('支付成功', {}, { timeout: 5000 })).toBeTruthy();
    expect(taroTest.requests.filter((r) => r.url.endsWith(`/api/orders/${orderId}/payment`))).toHaveLength(1);
    const orders = await ordersOfCurrentUser();
    expect(orders.map((o: { id: string; status: string }) => [o.id, o.status])).toEqual([[orderId, 'PAID']]);
  });

  it('believes the server over the callback: "ok" while the order is unpaid keeps confirming', async () => {
    const token = await sys.login();
    taroTest.storage.set('checkout.token', token);
    const { order } = await sys.checkout(token);
    taroTest.routerParams = { id: order.id, outcome: 'ok', message: '' };
    render(<ResultPage />);
    expect(await screen.findByText('正在确认支付结果')).toBeTruthy();
    expect(screen.queryByText('支付成功')).toBeNull();
  });

  it('shows a failure with its reason and Retry', async () => {
    const token = await sys.login();
    taroTest.storage.set('checkout.token', token);
    const { order } = await sys.checkout(token);
    taroTest.routerParams = { id: order.id, outcome: 'fail', message: encodeURIComponent('余额不足') };
    render(<ResultPage />);
    expect(await screen.findByText('支付未完成')).toBeTruthy();
    expect(screen.getByText(/余额不足/)).toBeTruthy();
    expect(button('重新支付')).toBeTruthy();
  });

  it('says 订单已关闭 once, with one way on, when Retry meets an order whose time to pay has passed', async () => {
    await arriveFromCheckout(false);
    expect(await screen.findByText('支付已取消')).toBeTruthy();
    // Time passes: the order's deadline is now behind it (the server has not closed it yet).
    const db = new Database(path.join(sys.dataDir, 'checkout.sqlite'));
    db.prepare('UPDATE orders SET pay_deadline = ? WHERE id = ?').run(Date.now() - 1000, taroTest.routerParams.id);
    db.close();
    fireEvent.click(button('重新支付'));
    expect(await screen.findByText('订单已关闭')).toBeTruthy();
    await waitFor(() => expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['返回商店']));
    expect(screen.queryAllByText(/订单已关闭/)).toHaveLength(1);
  });

  it('says it cannot confirm when the order cannot be read, with a way to try again', async () => {
    const token = await sys.login();
    taroTest.storage.set('checkout.token', token);
    taroTest.routerParams = { id: 'ord_00000000000000000000000000000000', outcome: 'cancel' };
    render(<ResultPage />);
    expect(await screen.findByText('暂时无法确认支付结果')).toBeTruthy();
    expect(screen.getByText('无法获取订单状态：没有找到这笔订单')).toBeTruthy();
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['重试', '返回商店']);
  });
});

describe('orders page and the cart', () => {
  it('lists the orders with state, amount and time; a pending one shows its countdown and 去支付', async () => {
    const token = await sys.login();
    taroTest.storage.set('checkout.token', token);
    const pending = await sys.checkout(token, [{ sku: 'DRIP-BAGS-10', quantity: 1 }]);
    const paid = await sys.checkout(token, [{ sku: 'MUG-CERAMIC', quantity: 1 }]);
    await sys.pay(paid.payment);
    await waitFor(async () => expect((await sys.http('GET', `/api/orders/${paid.order.id}`, { token })).body.order.status).toBe('PAID'));
    render(<OrdersPage />);
    await screen.findByText('挂耳咖啡 10 包');
    expect(screen.getByText('待支付')).toBeTruthy();
    expect(screen.getByText('待发货')).toBeTruthy(); // paid, not shipped yet
    expect(screen.getByText('¥39.90')).toBeTruthy();
    expect(screen.getByText(/^剩余 (29:5\d|30:00) 支付$/)).toBeTruthy();
    fireEvent.click(button('去支付 挂耳咖啡 10 包'));
    expect(lastNavigation()).toEqual({ kind: 'navigateTo', url: `/pages/result/index?id=${pending.order.id}&outcome=cancel` });
  });

  it('a shipped order shows 已发货 with carrier and copyable tracking number; 确认收货 ends 已完成, as WeChat says', async () => {
    const token = await sys.login();
    taroTest.storage.set('checkout.token', token);
    const paid = await sys.checkout(token, [{ sku: 'MUG-CERAMIC', quantity: 1 }]);
    await sys.pay(paid.payment);
    await waitFor(async () => expect((await sys.http('GET', `/api/orders/${paid.order.id}`, { token })).body.order.status).toBe('PAID'));
    expect(
      (
        await sys.admin('POST', `/orders/${paid.order.id}/shipments`, {
          logisticsType: 'express',
          packages: [{ carrier: 'YTO', trackingNo: 'YT9988776655' }],
        })
      ).status,
    ).toBe(201);
    render(<OrdersPage />);
    expect(await screen.findByText('已发货')).toBeTruthy();
    expect(screen.getByText('圆通速递 YT9988776655')).toBeTruthy();
    fireEvent.click(screen.getByLabelText('复制运单号 YT9988776655'));
    await waitFor(() => expect(taroTest.clipboard).toBe('YT9988776655'));
    // The tap asks first for the refund notice (never asked for this order: it was paid outside the page), then confirms.
    taroTest.modalAnswers = [false, true];
    fireEvent.click(button('确认收货 陶瓷马克杯'));
    expect(await screen.findByText('已完成', {}, { timeout: 5000 })).toBeTruthy();
    expect(taroTest.modals.slice(-2).map((m) => m.title)).toEqual(['订阅消息', '确认收货（沙箱）']);
    // The server was asked, and it asked WeChat: not the client's word.
    expect(taroTest.requests.some((r) => r.url.endsWith(`/api/orders/${paid.order.id}/receipt`))).toBe(true);
    expect(screen.queryByRole('button', { name: /确认收货/ })).toBeNull();
  });

  it('keeps the cart after a cancelled payment, resumes the same order from it, and clears it once paid', async () => {
    taroTest.storage.set('checkout.token', await sys.login());
    const pay = await checkoutWithMug();
    taroTest.modalAnswers.push(false); // cancel in the sheet
    fireEvent.click(pay);
    await waitFor(() => expect(lastNavigation()?.url).toMatch(/outcome=cancel/));
    const firstOrder = paramsOf(lastNavigation().url).id;
    cleanup();
    render(<CheckoutPage />); // back to the shop: the cart is still there
    await screen.findByText('微信支付 ¥45.00');
    taroTest.modalAnswers.push(true);
    fireEvent.click(button('微信支付 ¥45.00'));
    await waitFor(() => expect(lastNavigation()?.url).toMatch(/outcome=ok/));
    expect(paramsOf(lastNavigation().url).id).toBe(firstOrder); // the same order, not a second one
    expect(await ordersOfCurrentUser()).toHaveLength(1);
    cleanup();
    Object.assign(taroTest.routerParams, paramsOf(lastNavigation().url));
    render(<ResultPage />);
    await screen.findByText('支付成功');
    expect(screen.getByText(/^订单号 \w+/)).toBeTruthy();
    expect(screen.getByText(/^下单时间 \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/)).toBeTruthy();
    expect(taroTest.storage.get('checkout.cart')).toBeUndefined(); // paid: the cart is done
  });
});
