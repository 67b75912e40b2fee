// The WeChat runtime for a compiled mini program in Node: miniprogram-simulate 1.6.2 with jsdom, the
// build loaded from `dist/<out>` against the real server and sandbox. Only what WeChat provides is
// stood in for: wx.* (requests over real HTTP, storage, modals, navigation, plus what a test adds),
// App, getApp, getCurrentPages, and a Page() that registers Taro's page config through Component(),
// calling onLoad / onShow / onReady when it attaches. Used by the weapp-simulate*.test.ts files (each
// in a worker of its own: the globals are per process).
import fs from 'node:fs';
import path from 'node:path';
import { requestOverHttp } from '../client/test/http-request';
import { taroBuild } from '../scripts/h5-build';
import type { SystemProcess } from '../server/test/system-process';

const root = path.resolve(__dirname, '..');

export interface WeappHarness {
  modals: string[];
  app(): any;
  storage: Map<string, unknown>;
  modalAnswers: boolean[];
  navigations: { kind: string; url: string }[];
  open(page: string, query?: Record<string, string>): any;
  text(comp: any): string;
  until(check: () => boolean, what: string, ms?: number): Promise<void>;
  tap(comp: any, label: string, within?: string): void;
  lastNav(): { kind: string; url: string };
  query(url: string): Record<string, string>;
}

/** npm unpacks the WXML compiler that miniprogram-simulate runs without its execute bit. */
function makeWccExecutable() {
  const bin = path.join(
    path.dirname(require.resolve('miniprogram-compiler/package.json')),
    'bin',
    process.platform === 'darwin' ? 'mac' : 'linux',
    'wcc',
  );
  if (fs.existsSync(bin)) fs.chmodSync(bin, 0o755);
}

/** Builds client/ into dist/<outDir> for this system, installs the WeChat runtime, and loads app.js. */
export async function startWeapp(
  sys: SystemProcess,
  o: { outDir: string; paymentMode: 'sandbox' | 'wechat'; wx?: Record<string, unknown> },
): Promise<WeappHarness> {
  makeWccExecutable();
  const out = path.join(root, 'dist', o.outDir);
  const storage = new Map<string, unknown>();
  const modalAnswers: boolean[] = [];
  /** The titles of the modals shown, in order (the sandbox sheet, the subscription dialog's stand-in). */
  const modals: string[] = [];
  const navigations: { kind: string; url: string }[] = [];
  fs.rmSync(out, { recursive: true, force: true });
  await taroBuild(root, 'weapp', {
    NODE_ENV: 'development',
    TARO_APP_OUTPUT: `dist/${o.outDir}`,
    TARO_APP_PAYMENT_MODE: o.paymentMode,
    TARO_APP_API_BASE: sys.api,
    TARO_APP_SANDBOX_BASE: sys.sandbox,
  });

  /** wx.request: real HTTP, answered through success / fail and complete. */
  function request(r: any) {
    requestOverHttp(r).then(
      (res) => {
        const a = { ...res, errMsg: 'request:ok' };
        r.success?.(a);
        r.complete?.(a);
      },
      (err) => {
        r.fail?.(err);
        r.complete?.(err);
      },
    );
    return { abort() {} };
  }
  Object.assign(globalThis, {
    wx: {
      request,
      getSystemInfoSync: () => ({
        platform: 'devtools',
        windowWidth: 375,
        windowHeight: 667,
        pixelRatio: 2,
        SDKVersion: '3.0.0',
        version: '8.0.0',
        statusBarHeight: 20,
        screenWidth: 375,
        screenHeight: 667,
      }),
      getStorageSync: (k: string) => storage.get(k) ?? '',
      setStorageSync: (k: string, v: unknown) => void storage.set(k, v),
      removeStorageSync: (k: string) => void storage.delete(k),
      nextTick: (fn: () => void) => setTimeout(fn, 0),
      canIUse: () => true,
      getMenuButtonBoundingClientRect: () => ({ top: 24, height: 32, width: 87, left: 280, right: 367, bottom: 56 }),
      showModal: (m: any) => {
        modals.push(String(m?.title ?? ''));
        return ok('showModal', { confirm: modalAnswers[0] ?? false, cancel: !(modalAnswers.shift() ?? false) })(m);
      },
      showToast: ok('showToast'),
      hideToast: ok('hideToast'),
      navigateTo: (n: any) => {
        navigations.push({ kind: 'navigateTo', url: n.url });
        return ok('navigateTo')(n);
      },
      redirectTo: (n: any) => {
        navigations.push({ kind: 'redirectTo', url: n.url });
        return ok('redirectTo')(n);
      },
      reLaunch: (n: any) => {
        navigations.push({ kind: 'reLaunch', url: n.url });
        return ok('reLaunch')(n);
      },
      ...o.wx,
    },
  });
  let app: any = null;
  Object.assign(globalThis, {
    // biome-ignore lint/correctness/noComponentHookFactories: WeChat's global App() constructor, not a React component
    App: (cfg: any) => {
      app = cfg;
      cfg.onLaunch?.call(cfg, { path: 'pages/checkout/index', query: {} });
      cfg.onShow?.call(cfg, { path: 'pages/checkout/index', query: {} });
    },
    getApp: () => app,
    getCurrentPages: () => [],
    // biome-ignore lint/correctness/noComponentHookFactories: WeChat's global Page() constructor, not a React component
    Page: (cfg: any) => {
      const { data, onLoad, onShow, onReady, onUnload, ...rest } = cfg;
      const methods = Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v === 'function'));
      (globalThis as any).Component({ data, methods: { ...methods, onLoad, onShow, onReady, onUnload } });
    },
  });
  // Its typings declare WeChat's global `require` over Node's for the whole program: load it untyped.
  const simulatePackage = 'miniprogram-simulate';
  const simulate = (await import(/* @vite-ignore */ simulatePackage)).default;
  require(path.join(out, 'app.js'));

  const loaded = new Map<string, string>();
  let lastShown: any;
  const text = (comp: any) => (comp.dom.textContent ?? '').replace(/\s+/g, ' ');
  return {
    app: () => app,
    storage,
    modalAnswers,
    modals,
    navigations,
    /** Loads a compiled page (once: its module registers it) and opens a new instance, running its lifecycle as WeChat does. */
    open(page, q = {}) {
      if (!loaded.has(page)) loaded.set(page, simulate.load(path.join(out, page), { rootPath: out, compiler: 'official' }));
      const comp = simulate.render(loaded.get(page));
      lastShown = comp;
      comp.attach(document.createElement('div'));
      const inst = comp.instance;
      inst.route = inst.__route__ = page;
      inst.onLoad.call(inst, q);
      inst.onShow?.call(inst);
      inst.onReady?.call(inst);
      return comp;
    },
    text,
    async until(check, what, ms = 10_000) {
      const end = Date.now() + ms;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the page shows: ${lastShown ? text(lastShown) : '?'}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    /**
     * Taps the element whose text is exactly `label` (inside the innermost element whose text includes
     * `within`, when given), as a finger would: a tap event on the rendered node, handled by Taro's `eh`.
     */
    tap(comp, label, within) {
      const all = [...comp.dom.querySelectorAll('wx-button, wx-text, wx-view')] as Element[];
      const exact = (r: Element) =>
        ([...r.querySelectorAll('wx-button, wx-text, wx-view')] as Element[]).reverse().find((e) => e.textContent?.trim() === label);
      const scope = within ? all.filter((e) => e.textContent?.includes(within) && exact(e)).at(-1) : comp.dom;
      const el = scope && exact(scope);
      if (!el) throw new Error(`no element with text ${label} in: ${text(comp)}`);
      const sid = el.getAttribute('data-sid');
      const node = comp.querySelector(`#${sid}`);
      if (!node) throw new Error(`no virtual node for ${sid}`);
      node.dispatchEvent('tap');
    },
    lastNav: () => navigations.at(-1)!,
    query: (url) => Object.fromEntries(new URLSearchParams(url.split('?')[1] ?? '')),
  };
}

export const ok =
  (name: string, extra: object = {}) =>
  (o: any = {}) => {
    const r = { errMsg: `${name}:ok`, ...extra };
    o.success?.(r);
    o.complete?.(r);
    return Promise.resolve(r);
  };
