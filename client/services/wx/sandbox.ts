// The sandbox's payer endpoints: what the WeChat app does on the phone, done over HTTP.
import Taro from '@tarojs/taro';
import { SANDBOX_BASE } from '../config';
import { ApiError } from '../errors';
import { request } from '../http';
import { toOutcome } from './outcome';
import type { PaymentOutcome, RequestPaymentParams } from './types';

const USER_KEY = 'checkout.sandboxUser';

/** One stable test user per device, so a reload keeps the same openid and the same orders. */
function sandboxUser(): string {
  let user = Taro.getStorageSync(USER_KEY) as string;
  if (!user) {
    user = `shopper-${Math.random().toString(36).slice(2, 10)}`;
    Taro.setStorageSync(USER_KEY, user);
  }
  return user;
}

export async function sandboxLogin(): Promise<string> {
  const res = await request<{ errMsg: string; code?: string }>('POST', `${SANDBOX_BASE}/sandbox/login`, {
    body: { user: sandboxUser() },
    auth: false,
  });
  if (!res.code) throw new ApiError(0, 'WECHAT_UNREACHABLE', res.errMsg);
  return res.code;
}

/** The subscription dialog's stand-in, after the payment as in WeChat: one answer for every template, recorded at
 *  the sandbox as WeChat records a tap. */
export async function sandboxSubscribe(tmplIds: string[]): Promise<Record<string, string>> {
  const { confirm } = await Taro.showModal({
    title: '订阅消息',
    content: '接收订单的支付、发货和退款通知？',
    confirmText: '允许',
    cancelText: '取消',
  });
  const answer = confirm ? 'accept' : 'reject';
  try {
    return await request<Record<string, string>>('POST', `${SANDBOX_BASE}/sandbox/subscribe`, {
      body: { user: sandboxUser(), answers: Object.fromEntries(tmplIds.map((id) => [id, answer])) },
      auth: false,
    });
  } catch {
    return {};
  }
}

export async function sandboxPay(params: RequestPaymentParams, outcome: 'success' | 'cancel' | 'fail'): Promise<PaymentOutcome> {
  let errMsg: string;
  try {
    errMsg = (await request<{ errMsg: string }>('POST', `${SANDBOX_BASE}/sandbox/pay`, { body: { ...params, outcome }, auth: false }))
      .errMsg;
  } catch (err) {
    // The sandbox refused the sheet (for example a prepay_id it no longer knows): say it in the shopper's words.
    return {
      outcome: 'fail',
      message: err instanceof ApiError && err.status === 409 ? '订单状态已变化，请刷新后查看' : '支付未能完成，请重新支付',
    };
  }
  return toOutcome(errMsg);
}

export async function sandboxSheetInfo(params: RequestPaymentParams): Promise<{ total: number; description: string } | null> {
  const prepayId = params.package.replace(/^prepay_id=/, '');
  try {
    return await request('GET', `${SANDBOX_BASE}/sandbox/prepay/${encodeURIComponent(prepayId)}`, { auth: false });
  } catch {
    return null;
  }
}

/** The confirm-receipt component's stand-in: the sandbox confirms for the payer, as WeChat's component would. */
export async function sandboxConfirmReceipt(merchantId: string, outTradeNo: string): Promise<'success' | 'fail' | 'cancel'> {
  const res = await request<{ extraData: { status: 'success' | 'fail' | 'cancel' } }>('POST', `${SANDBOX_BASE}/sandbox/confirm-receipt`, {
    body: { merchant_id: merchantId, merchant_trade_no: outTradeNo },
    auth: false,
  });
  return res.extraData.status;
}
