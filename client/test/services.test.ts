// Services against the real server and sandbox: login, the 401 re-login, money, the seam.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSystemProcess, type SystemProcess } from '../../server/test/system-process';
import { taroTest } from './taro-shim';

let sys: SystemProcess;
beforeAll(async () => {
  sys = await startSystemProcess();
  Object.assign(globalThis, { __API_BASE__: sys.api, __SANDBOX_BASE__: sys.sandbox, __PAYMENT_MODE__: 'sandbox' });
});
afterAll(() => sys?.stop());
beforeEach(() => taroTest.reset());

describe('money', () => {
  it('formats integer fen as yuan without floating point', async () => {
    const { formatYuan, cartTotal } = await import('../services/money');
    expect(formatYuan(0)).toBe('¥0.00');
    expect(formatYuan(1)).toBe('¥0.01');
    expect(formatYuan(1990)).toBe('¥19.90');
    expect(formatYuan(980)).toBe('¥9.80');
    expect(formatYuan(123456789)).toBe('¥1,234,567.89');
    expect(formatYuan(12345678)).toBe('¥123,456.78');
    expect(formatYuan(100000)).toBe('¥1,000.00');
    expect(formatYuan(-9000)).toBe('-¥90.00');
    expect(() => formatYuan(19.9)).toThrow(RangeError);
    expect(
      cartTotal([
        { price: 1990, quantity: 3 },
        { price: 1, quantity: 2 },
      ]),
    ).toBe(5972);
  });
});

describe('auth and the request wrapper', () => {
  it('logs in through the sandbox and keeps the token in storage', async () => {
    const { ensureLoggedIn } = await import('../services/auth');
    await ensureLoggedIn();
    expect(taroTest.storage.get('checkout.token')).toMatch(/^[\w-]{40,}$/);
    const loginCalls = taroTest.requests.filter((r) => r.url.endsWith('/api/auth/login')).length;
    await ensureLoggedIn();
    expect(taroTest.requests.filter((r) => r.url.endsWith('/api/auth/login')).length).toBe(loginCalls);
  });

  it('re-logs in once, silently, on a 401 and repeats the request', async () => {
    const { getOrder } = await import('../services/orders');
    const { request } = await import('../services/http');
    taroTest.storage.set('checkout.token', 'x'.repeat(43)); // expired or revoked
    const res = await request<{ orders: unknown[] }>('GET', '/api/orders');
    expect(res.orders).toEqual([]);
    expect(taroTest.storage.get('checkout.token')).not.toBe('x'.repeat(43));
    expect(taroTest.requests.filter((r) => r.url.endsWith('/api/auth/login'))).toHaveLength(1);
    // A 404 is an error with the server's code, not a re-login.
    await expect(getOrder('ord_00000000000000000000000000000000')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('does not loop when login itself keeps failing', async () => {
    const { request } = await import('../services/http');
    taroTest.storage.set('checkout.token', 'y'.repeat(43));
    await sys.controls({ code2sessionErrcode: { errcode: -1, times: 5 } });
    await expect(request('GET', '/api/orders')).rejects.toMatchObject({ code: 'WECHAT_BUSY' });
    await sys.controls({ code2sessionErrcode: null });
    expect(taroTest.requests.filter((r) => r.url.endsWith('/api/auth/login'))).toHaveLength(1);
  });

  it('turns an unreachable server into a NETWORK error with Chinese copy', async () => {
    const { request } = await import('../services/http');
    const { describeError } = await import('../services/errors');
    const err = await request('GET', 'http://127.0.0.1:9/api/health', { auth: false }).catch((e) => e);
    expect(err).toMatchObject({ code: 'NETWORK' });
    expect(describeError(err)).toBe('网络连接失败，请检查网络后重试');
  });
});

describe('the mini-program payment seam', () => {
  it('in wechat mode passes the five fields to Taro.requestPayment untouched, with signType RSA', async () => {
    const { vi } = await import('vitest');
    vi.resetModules();
    Object.assign(globalThis, { __PAYMENT_MODE__: 'wechat' });
    try {
      const wx = await import('../services/wx');
      taroTest.login = async () => ({
        code: (await sys.http('POST', `${sys.sandbox}/sandbox/login`, { body: { user: 'wechat-mode' } })).body.code,
        errMsg: 'login:ok',
      });
      const code = await wx.wxLogin();
      const token = (await sys.http('POST', '/api/auth/login', { body: { code } })).body.token;
      const { payment, order } = await sys.checkout(token);
      let seen: Record<string, unknown> = {};
      taroTest.requestPayment = async (o) => {
        seen = o;
        const r = await sys.pay(o, 'success');
        if (r.errMsg !== 'requestPayment:ok') throw { errMsg: r.errMsg };
      };
      expect(await wx.wxRequestPayment(payment, { total: order.total, description: order.description })).toEqual({ outcome: 'ok' });
      // The five fields untouched (beside them only the success and fail callbacks).
      expect(Object.fromEntries(Object.entries(seen).filter(([, v]) => typeof v !== 'function'))).toEqual(payment);
      expect(seen.signType).toBe('RSA');
      taroTest.requestPayment = async () => {
        throw { errMsg: 'requestPayment:fail cancel' };
      };
      expect(await wx.wxRequestPayment(payment, order)).toEqual({ outcome: 'cancel' });
      taroTest.requestPayment = async () => {
        throw { errMsg: 'requestPayment:fail 余额不足' };
      };
      expect(await wx.wxRequestPayment(payment, order)).toEqual({ outcome: 'fail', message: '余额不足' });
    } finally {
      Object.assign(globalThis, { __PAYMENT_MODE__: 'sandbox' });
      vi.resetModules();
    }
  });

  it('in sandbox mode asks with a modal and pays through the sandbox', async () => {
    const wx = await import('../services/wx');
    const token = await sys.login();
    const { payment, order } = await sys.checkout(token);
    taroTest.modalAnswers = [false];
    expect(await wx.wxRequestPayment(payment, order)).toEqual({ outcome: 'cancel' });
    expect(taroTest.modals[0]?.content).toContain('¥45.00');
    taroTest.modalAnswers = [true];
    expect(await wx.wxRequestPayment(payment, order)).toEqual({ outcome: 'ok' });
  });

  it('on H5 shows an in-page sheet with the amount, Pay and Cancel', async () => {
    const h5 = await import('../services/wx/index.h5');
    const token = await sys.login();
    const { payment, order } = await sys.checkout(token, [{ sku: 'DRIP-BAGS-10', quantity: 2 }]);
    const pending = h5.wxRequestPayment(payment, order);
    const sheet = await waitForElement('.pay-sheet');
    expect(sheet.querySelector('.pay-sheet__amount')?.textContent).toBe('¥79.80');
    // A tap the moment the sheet opens is the second tap of a double tap: ignored.
    (sheet.querySelector('.pay-sheet__cancel') as HTMLButtonElement).click();
    expect(document.querySelector('.pay-sheet')).not.toBeNull();
    await new Promise((r) => setTimeout(r, h5.SHEET_GUARD_MS));
    (sheet.querySelector('.pay-sheet__cancel') as HTMLButtonElement).click();
    expect(await pending).toEqual({ outcome: 'cancel' });
    expect(document.querySelector('.pay-sheet')).toBeNull();
    const again = h5.wxRequestPayment(payment, order);
    const pay = (await waitForElement('.pay-sheet__pay')) as HTMLButtonElement;
    await new Promise((r) => setTimeout(r, h5.SHEET_GUARD_MS));
    pay.click();
    expect(await again).toEqual({ outcome: 'ok' });
  });
});

async function waitForElement(selector: string): Promise<Element> {
  for (let i = 0; i < 500; i++) {
    const el = document.querySelector(selector);
    if (el) return el;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${selector} did not appear`);
}
