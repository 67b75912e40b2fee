// @vitest-environment jsdom
// The compiled mini program, run in Node: `dist/weapp-sim` (a sandbox-mode build of client/) loaded by
// the official miniprogram-simulate against the real server and sandbox. Only the WeChat runtime is
// stood in for: wx.* (requests over real HTTP, storage, the modal that sandbox mode uses as the
// payment sheet, navigation), App, getApp, getCurrentPages, and a Page() that registers Taro's page
// config through Component(), calling onLoad / onShow / onReady when it attaches.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestOverHttp } from '../client/test/http-request';
import { taroBuild } from '../scripts/h5-build';
import { startSystemProcess, type SystemProcess } from '../server/test/system-process';

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist/weapp-sim');

let sys: SystemProcess;
let simulate: any;
const storage = new Map<string, unknown>();
const modalAnswers: boolean[] = [];
const navigations: { kind: string; url: string }[] = [];

/** wx.request: real HTTP, answered through success / fail and complete. */
function request(o: any) {
  requestOverHttp(o).then(
    (res) => {
      const r = { ...res, errMsg: 'request:ok' };
      o.success?.(r);
      o.complete?.(r);
    },
    (err) => {
      o.fail?.(err);
      o.complete?.(err);
    },
  );
  return { abort() {} };
}

const ok = (name: string, extra: object = {}) => (o: any = {}) => {
  const r = { errMsg: `${name}:ok`, ...extra };
  o.success?.(r);
  o.complete?.(r);
  return Promise.resolve(r);
};

/** npm unpacks the WXML compiler that miniprogram-simulate runs without its execute bit. */
function makeWccExecutable() {
  const bin = path.join(path.dirname(require.resolve('miniprogram-compiler/package.json')), 'bin', process.platform === 'darwin' ? 'mac' : 'linux', 'wcc');
  if (fs.existsSync(bin)) fs.chmodSync(bin, 0o755);
}

beforeAll(async () => {
  makeWccExecutable();
  sys = await startSystemProcess();
  fs.rmSync(out, { recursive: true, force: true });
  await taroBuild(root, 'weapp', { NODE_ENV: 'development', TARO_APP_OUTPUT: 'dist/weapp-sim', TARO_APP_PAYMENT_MODE: 'sandbox', TARO_APP_API_BASE: sys.api, TARO_APP_SANDBOX_BASE: sys.sandbox });
  Object.assign(globalThis, {
    wx: {
      request,
      getSystemInfoSync: () => ({ platform: 'devtools', windowWidth: 375, windowHeight: 667, pixelRatio: 2, SDKVersion: '3.0.0', version: '8.0.0', statusBarHeight: 20, screenWidth: 375, screenHeight: 667 }),
      getStorageSync: (k: string) => storage.get(k) ?? '',
      setStorageSync: (k: string, v: unknown) => void storage.set(k, v),
      removeStorageSync: (k: string) => void storage.delete(k),
      nextTick: (fn: () => void) => setTimeout(fn, 0),
      canIUse: () => true,
      getMenuButtonBoundingClientRect: () => ({ top: 24, height: 32, width: 87, left: 280, right: 367, bottom: 56 }),
      showModal: (o: any) => ok('showModal', { confirm: modalAnswers[0] ?? false, cancel: !(modalAnswers.shift() ?? false) })(o),
      showToast: ok('showToast'),
      hideToast: ok('hideToast'),
      navigateTo: (o: any) => (navigations.push({ kind: 'navigateTo', url: o.url }), ok('navigateTo')(o)),
      redirectTo: (o: any) => (navigations.push({ kind: 'redirectTo', url: o.url }), ok('redirectTo')(o)),
      reLaunch: (o: any) => (navigations.push({ kind: 'reLaunch', url: o.url }), ok('reLaunch')(o)),
    },
  });
  let app: any = null;
  Object.assign(globalThis, {
    App: (cfg: any) => {
      app = cfg;
      cfg.onLaunch?.call(cfg, { path: 'pages/checkout/index', query: {} });
      cfg.onShow?.call(cfg, { path: 'pages/checkout/index', query: {} });
    },
    getApp: () => app,
    getCurrentPages: () => [],
    Page: (cfg: any) => {
      const { data, onLoad, onShow, onReady, onUnload, ...rest } = cfg;
      const methods = Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v === 'function'));
      (globalThis as any).Component({ data, methods: { ...methods, onLoad, onShow, onReady, onUnload } });
    },
  });
  // Its typings declare WeChat's global `require` over Node's for the whole program: load it untyped.
  const simulatePackage = 'miniprogram-simulate';
  simulate = (await import(/* @vite-ignore */ simulatePackage)).default;
  require(path.join(out, 'app.js'));
}, 180_000);
afterAll(() => sys?.stop());

const loaded = new Map<string, string>();

/** Loads a compiled page (once: its module registers it) and opens a new instance, running its lifecycle as WeChat does. */
function open(page: string, query: Record<string, string> = {}) {
  if (!loaded.has(page)) loaded.set(page, simulate.load(path.join(out, page), { rootPath: out, compiler: 'official' }));
  const comp = simulate.render(loaded.get(page));
  lastShown = comp;
  comp.attach(document.createElement('div'));
  const inst = comp.instance;
  inst.route = inst.__route__ = page;
  inst.onLoad.call(inst, query);
  inst.onShow?.call(inst);
  inst.onReady?.call(inst);
  return comp;
}

const text = (comp: any) => (comp.dom.textContent ?? '').replace(/\s+/g, ' ');
let lastShown: any;
async function until(check: () => boolean, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the page shows: ${lastShown ? text(lastShown) : '?'}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
/**
 * Taps the element whose text is exactly `label` (inside the innermost element whose text includes
 * `within`, when given), as a finger would: a tap event on the rendered node, handled by Taro's `eh`.
 */
function tap(comp: any, label: string, within?: string) {
  const all = [...comp.dom.querySelectorAll('wx-button, wx-text, wx-view')] as Element[];
  const exact = (root: Element) => ([...root.querySelectorAll('wx-button, wx-text, wx-view')] as Element[]).reverse().find((e) => e.textContent?.trim() === label);
  // The innermost element that holds both `within` and the target.
  const scope = within ? all.filter((e) => e.textContent?.includes(within) && exact(e)).at(-1) : comp.dom;
  const el = scope && exact(scope);
  if (!el) throw new Error(`no element with text ${label} in: ${text(comp)}`);
  const sid = el.getAttribute('data-sid');
  const node = comp.querySelector(`#${sid}`);
  if (!node) throw new Error(`no virtual node for ${sid}`);
  node.dispatchEvent('tap');
}
const lastNav = () => navigations.at(-1)!;
const query = (url: string) => Object.fromEntries(new URLSearchParams(url.split('?')[1] ?? ''));

describe('the compiled mini program in miniprogram-simulate', () => {
  it('launch → silent login → checkout (+, total) → pay in the sandbox sheet → result paid', async () => {
    const checkout = open('pages/checkout/index');
    await until(() => text(checkout).includes('陶瓷马克杯'), 'the catalog');
    await until(() => Boolean(storage.get('checkout.token')), 'the silent login');
    expect(text(checkout)).toContain('请选择商品');
    tap(checkout, '+', '陶瓷马克杯350ml');
    await until(() => text(checkout).includes('微信支付 ¥45.00'), 'the total after one tap on +');
    tap(checkout, '+', '陶瓷马克杯350ml'); // a second tap, after the first has rendered, as a finger would
    await until(() => text(checkout).includes('微信支付 ¥90.00'), 'the total after two taps on +');
    modalAnswers.push(true); // sandbox mode's sheet: 确认支付
    tap(checkout, '微信支付 ¥90.00');
    await until(() => navigations.some((n) => n.url.startsWith('/pages/result/index')), 'the result page');
    const params = query(lastNav().url);
    expect(params.outcome).toBe('ok');
    const result = open('pages/result/index', params);
    await until(() => text(result).includes('支付成功'), 'paid', 15_000);
    expect(text(result)).toContain('¥90.00');
    expect((await sys.http('GET', `/api/orders/${params.id}`, { token: storage.get('checkout.token') as string })).body.order.status).toBe('PAID');
  });

  it('cancel in the sheet → the result page offers Retry → Retry → paid', async () => {
    const checkout = open('pages/checkout/index');
    await until(() => text(checkout).includes('挂耳咖啡 10 包'), 'the catalog');
    tap(checkout, '+', '挂耳咖啡 10 包办公室');
    await until(() => text(checkout).includes('微信支付 ¥39.90'), 'the total');
    modalAnswers.push(false); // 取消
    tap(checkout, '微信支付 ¥39.90');
    await until(() => lastNav()?.url.includes('outcome=cancel'), 'the cancelled result');
    const params = query(lastNav().url);
    const result = open('pages/result/index', params);
    await until(() => text(result).includes('支付已取消'), 'the cancelled page');
    modalAnswers.push(true);
    tap(result, '重新支付');
    await until(() => text(result).includes('支付成功'), 'paid after Retry', 15_000);
  });
});
