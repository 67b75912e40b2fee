// A stand-in for '@tarojs/taro' in component tests (happy-dom has no mini-program runtime).
// This is the platform boundary we do not own; everything behind it is real: requests go over
// real HTTP (node:http, not the DOM's fetch) to the real server and sandbox started by the test.
import { useEffect } from 'react';
import { requestOverHttp, type WxRequest } from './http-request';

type Params = Record<string, string>;

const makeState = () => ({
  storage: new Map<string, unknown>(),
  routerParams: {} as Params,
  navigations: [] as { kind: 'navigateTo' | 'redirectTo' | 'reLaunch'; url: string }[],
  /** What showModal answers (the mini-program sandbox sheet): true = confirm. */
  modalAnswers: [] as boolean[],
  modals: [] as { title?: string; content?: string }[],
  /** The "WeChat app": how Taro.login and Taro.requestPayment behave in 'wechat' mode. */
  login: async (): Promise<{ code: string; errMsg: string }> => ({ code: '', errMsg: 'login:fail no handler' }),
  requestPayment: async (_o: Record<string, unknown>): Promise<void> => {
    throw { errMsg: 'requestPayment:fail no handler' };
  },
  requests: [] as { method: string; url: string; headers: Record<string, string> }[],
  clipboard: '' as string,
  toasts: [] as string[],
  businessViews: [] as Record<string, unknown>[],
  reset() {
    this.clipboard = '';
    this.toasts = [];
    this.businessViews = [];
    this.storage.clear();
    this.routerParams = {};
    this.navigations = [];
    this.modalAnswers = [];
    this.modals = [];
    this.requests = [];
  },
});

// One state per test file even when modules are re-imported (vi.resetModules).
const holder = globalThis as { __taroTest?: ReturnType<typeof makeState> };
holder.__taroTest ??= makeState();
export const taroTest = holder.__taroTest;

function httpRequest(o: WxRequest) {
  taroTest.requests.push({ method: o.method ?? 'GET', url: o.url, headers: { ...o.header } });
  return requestOverHttp(o);
}

const Taro = {
  request: httpRequest,
  getStorageSync: (k: string) => taroTest.storage.get(k) ?? '',
  setStorageSync: (k: string, v: unknown) => void taroTest.storage.set(k, v),
  removeStorageSync: (k: string) => void taroTest.storage.delete(k),
  login: () => taroTest.login(),
  // As Taro's does: the callbacks, and a promise (which the callback style leaves unhandled on purpose).
  requestPayment: (o: Record<string, unknown> & { success?: (r: unknown) => void; fail?: (e: unknown) => void }) =>
    taroTest.requestPayment(o).then(
      (r) => {
        o.success?.(r ?? { errMsg: 'requestPayment:ok' });
        return r;
      },
      (e) => {
        o.fail?.(e);
        throw e;
      },
    ),
  requestSubscribeMessage: (o: { tmplIds: string[]; success?: (r: unknown) => void }) => {
    const r = { errMsg: 'requestSubscribeMessage:ok', ...Object.fromEntries(o.tmplIds.map((id) => [id, 'accept'])) };
    o.success?.(r);
    return Promise.resolve(r);
  },
  showModal: async (o: { title?: string; content?: string }) => {
    taroTest.modals.push(o);
    const confirm = taroTest.modalAnswers.shift() ?? false;
    return { confirm, cancel: !confirm, errMsg: 'showModal:ok' };
  },
  setClipboardData: async ({ data }: { data: string }) => {
    taroTest.clipboard = data;
  },
  showToast: async ({ title }: { title: string }) => void taroTest.toasts.push(title),
  openBusinessView: async (o: Record<string, unknown>) => {
    taroTest.businessViews.push(o);
    return { errMsg: 'openBusinessView:ok' };
  },
  navigateTo: async ({ url }: { url: string }) => void taroTest.navigations.push({ kind: 'navigateTo', url }),
  redirectTo: async ({ url }: { url: string }) => void taroTest.navigations.push({ kind: 'redirectTo', url }),
  reLaunch: async ({ url }: { url: string }) => void taroTest.navigations.push({ kind: 'reLaunch', url }),
};

/** The page shows (on mount here; again when the app returns to it in a real runtime). */
export function useDidShow(fn: () => void) {
  // biome-ignore lint/correctness/useExhaustiveDependencies: on mount only, as a page's first show
  useEffect(() => fn(), []);
}

export function useRouter() {
  return { params: taroTest.routerParams, path: '' };
}

/** The params of the last navigateTo, as the next page's router would see them. */
export function paramsOf(url: string): Params {
  return Object.fromEntries(new URLSearchParams(url.split('?')[1] ?? ''));
}

export default Taro;
