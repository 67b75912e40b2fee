// The mini program's side of the seam: real wx.login and wx.requestPayment, or, when built with
// TARO_APP_PAYMENT_MODE=sandbox, the local sandbox (so DevTools can run the flow with no merchant).
import Taro from '@tarojs/taro';
import { ApiError } from '../errors';
import { formatYuan } from '../money';
import { toOutcome } from './outcome';
import { sandboxConfirmReceipt, sandboxLogin, sandboxPay, sandboxSubscribe } from './sandbox';
import type { PaymentOutcome, ReceiptInfo, ReceiptOutcome, RequestPaymentParams, SheetInfo } from './types';

export type { PaymentOutcome, ReceiptInfo, ReceiptOutcome, SheetInfo };

/**
 * 确认收货: WeChat's confirm-receipt component (wx.openBusinessView, base library ≥ 2.6.0). It answers
 * through App.onShow's referrerInfo, never to the caller: the page asks the server when it shows again.
 */
async function confirmReceiptInWechat(info: ReceiptInfo): Promise<ReceiptOutcome> {
  // Taro's types know only the WeChat Pay score views' extraData; weappOrderConfirm takes the order's ids.
  const extraData = { merchant_id: info.merchantId, merchant_trade_no: info.outTradeNo } as unknown as Parameters<
    typeof Taro.openBusinessView
  >[0]['extraData'];
  await Taro.openBusinessView({ businessType: 'weappOrderConfirm', extraData });
  return 'opened';
}

/** In sandbox mode (DevTools cannot run the component) a modal and the sandbox stand in for it. */
async function confirmReceiptInSandbox(info: ReceiptInfo): Promise<ReceiptOutcome> {
  const { confirm } = await Taro.showModal({
    title: '确认收货（沙箱）',
    content: `${info.description}\n请确认已收到商品`,
    confirmText: '确认收货',
    cancelText: '取消',
  });
  return confirm ? sandboxConfirmReceipt(info.merchantId, info.outTradeNo) : 'cancel';
}

async function loginInWechat(): Promise<string> {
  const res = await Taro.login();
  if (!res.code) throw new ApiError(0, 'WECHAT_UNREACHABLE', res.errMsg);
  return res.code;
}

function payInWechat(params: RequestPaymentParams, info: SheetInfo): Promise<PaymentOutcome> {
  return new Promise((resolve) => {
    // The five fields pass through untouched, signType included: RSA for API v3, MD5 or HMAC-SHA256 for v2.
    void Promise.resolve(
      Taro.requestPayment({
        timeStamp: params.timeStamp,
        nonceStr: params.nonceStr,
        package: params.package,
        signType: params.signType,
        paySign: params.paySign,
        success: () => {
          const ask = info.subscribe;
          if (!ask) return resolve({ outcome: 'ok' });
          // Inside the payment callback, as WeChat requires (never on page load, nothing awaited in between).
          void subscribeInWechat(ask.tmplIds).then((subscriptions) => resolve({ outcome: 'ok', subscriptions }));
        },
        fail: (err: { errMsg?: string }) => resolve(toOutcome(String(err?.errMsg ?? 'requestPayment:fail'))),
      }),
    ).catch(() => undefined); // answered through the callbacks
  });
}

async function payInSandbox(params: RequestPaymentParams, info: SheetInfo): Promise<PaymentOutcome> {
  const { confirm } = await Taro.showModal({
    title: '沙箱支付',
    content: `${info.description}\n${formatYuan(info.total)}`,
    confirmText: '确认支付',
    cancelText: '取消',
  });
  const outcome = await sandboxPay(params, confirm ? 'success' : 'cancel');
  if (outcome.outcome !== 'ok' || !info.subscribe) return outcome;
  return { outcome: 'ok', subscriptions: await sandboxSubscribe(info.subscribe.tmplIds) };
}

/** The subscription dialog in a tap (wx.requestSubscribeMessage must be called in the tap itself): its answers. */
function subscribeInWechat(tmplIds: string[]): Promise<Record<string, string>> {
  return new Promise((resolve) => {
    try {
      // Answered through the callbacks; the returned promise (absent in some runtimes) is left settled quietly.
      void Promise.resolve(
        Taro.requestSubscribeMessage({
          tmplIds,
          success: (r: unknown) => resolve(r as Record<string, string>),
          fail: () => resolve({}),
        } as unknown as Taro.requestSubscribeMessage.Option),
      ).catch(() => undefined);
    } catch {
      resolve({}); // a base library without it (before 2.4.4): nothing is asked
    }
  });
}

interface Seam {
  confirmReceipt(info: ReceiptInfo): Promise<ReceiptOutcome>;
  login(): Promise<string>;
  requestPayment(params: RequestPaymentParams, info: SheetInfo): Promise<PaymentOutcome>;
  requestSubscribe(tmplIds: string[]): Promise<Record<string, string>>;
}

/**
 * Which seam this build has, decided by the build-time constant itself (not a value imported at run time,
 * not a branch inside an async function): the bundler evaluates this condition, keeps one branch, and
 * the minifier drops the sandbox functions and what only they call. Taro's minifier does not propagate
 * constants between statements (reduce_vars is off), so the condition is written here, in one expression.
 * e2e/weapp-build.test.ts greps the release bundle to prove it. (Tests set the constant on globalThis.)
 */
const seam: Seam =
  typeof __PAYMENT_MODE__ === 'undefined' || __PAYMENT_MODE__ === 'sandbox'
    ? { confirmReceipt: confirmReceiptInSandbox, login: sandboxLogin, requestPayment: payInSandbox, requestSubscribe: sandboxSubscribe }
    : { confirmReceipt: confirmReceiptInWechat, login: loginInWechat, requestPayment: payInWechat, requestSubscribe: subscribeInWechat };

export const wxConfirmReceipt = (info: ReceiptInfo) => seam.confirmReceipt(info);
/** Call it in the tap's handler before anything is awaited: WeChat allows the dialog only there. */
export const wxRequestSubscribe = (tmplIds: string[]) => seam.requestSubscribe(tmplIds);
export const wxLogin = () => seam.login();
export const wxRequestPayment = (params: RequestPaymentParams, info: SheetInfo) => seam.requestPayment(params, info);
