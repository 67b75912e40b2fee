// The browser's side of the seam: the sandbox stands in for wx.login, and an in-page payment
// sheet (amount, Pay, Cancel) stands in for the WeChat app's.
import { formatYuan } from '../money';
import Taro from '@tarojs/taro';
import { claimNextPopstate } from './back';
import { sandboxConfirmReceipt, sandboxLogin, sandboxPay, sandboxSheetInfo, sandboxSubscribe } from './sandbox';
import type { PaymentOutcome, ReceiptInfo, ReceiptOutcome, RequestPaymentParams, SheetInfo } from './types';
import './pay-sheet.css';

export type { PaymentOutcome, ReceiptInfo, ReceiptOutcome, SheetInfo };

/** 确认收货 in the browser: a modal and the sandbox stand in for WeChat's confirm-receipt component. */
export async function wxConfirmReceipt(info: ReceiptInfo): Promise<ReceiptOutcome> {
  const { confirm } = await Taro.showModal({
    title: '确认收货',
    content: `${info.description}\n请确认已收到商品`,
    confirmText: '确认收货',
    cancelText: '取消',
  });
  return confirm ? sandboxConfirmReceipt(info.merchantId, info.outTradeNo) : 'cancel';
}

export const wxLogin = sandboxLogin;
export const wxRequestSubscribe = sandboxSubscribe;

export async function wxRequestPayment(params: RequestPaymentParams, info: SheetInfo): Promise<PaymentOutcome> {
  const shown = (await sandboxSheetInfo(params)) ?? info; // what WeChat Pay knows, as the real sheet shows
  const choice = await showSheet(shown);
  const outcome = await sandboxPay(params, choice === 'pay' ? 'success' : 'cancel');
  if (outcome.outcome !== 'ok' || !info.subscribe) return outcome;
  return { outcome: 'ok', subscriptions: await sandboxSubscribe(info.subscribe.tmplIds) };
}

/** The second tap of a double tap lands within this of the sheet opening: it was never meant for the sheet. */
export const SHEET_GUARD_MS = 500;

function showSheet(info: SheetInfo): Promise<'pay' | 'cancel'> {
  return new Promise((resolve) => {
    const openedAt = performance.now();
    const seen = () => performance.now() - openedAt >= SHEET_GUARD_MS;
    const overlay = document.createElement('div');
    overlay.className = 'pay-sheet-mask';
    overlay.setAttribute('role', 'dialog');
    overlay.setAttribute('aria-label', '微信支付');
    const sheet = document.createElement('div');
    sheet.className = 'pay-sheet';
    const title = document.createElement('div');
    title.className = 'pay-sheet__title';
    title.textContent = '微信支付（沙箱）';
    const desc = document.createElement('div');
    desc.className = 'pay-sheet__desc';
    desc.textContent = info.description;
    const amount = document.createElement('div');
    amount.className = 'pay-sheet__amount';
    amount.textContent = formatYuan(info.total);
    const pay = document.createElement('button');
    pay.className = 'pay-sheet__pay';
    pay.textContent = '确认支付';
    const cancel = document.createElement('button');
    cancel.className = 'pay-sheet__cancel';
    cancel.textContent = '取消';
    // Back closes the sheet, as on a phone, instead of leaving the page: the sheet takes a history entry
    // of its own, and claims the popstate that leaves it (back.h5.ts keeps it from the router, which would
    // otherwise rebuild the page). Closed by a button, the sheet takes its entry away again the same way —
    // history.back(), the popstate claimed — and answers only once the browser is back on the page's own
    // entry, so the navigation that follows starts from there and Back from the next page returns here.
    let closed = false;
    const finish = (choice: 'pay' | 'cancel', byBack = false) => {
      if (closed) return;
      closed = true;
      overlay.remove();
      document.removeEventListener('keydown', onKey);
      if (byBack) return resolve(choice);
      giveUpBack();
      let answered = false;
      const answer = () => {
        if (answered) return;
        answered = true;
        giveUpOwnBack();
        resolve(choice);
      };
      const giveUpOwnBack = claimNextPopstate(answer);
      history.back();
      setTimeout(answer, 1000); // a browser that never fires the popstate still gets its answer
    };
    history.pushState({ ...(typeof history.state === 'object' ? history.state : {}), paySheet: true }, '', location.href);
    const giveUpBack = claimNextPopstate(() => finish('cancel', true));
    const done = (choice: 'pay' | 'cancel') => {
      if (!seen()) return; // ignored: the shopper has not seen the sheet yet
      finish(choice);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') done('cancel');
    };
    pay.addEventListener('click', () => done('pay'));
    cancel.addEventListener('click', () => done('cancel'));
    // A tap outside the sheet, or Esc, cancels, as closing WeChat's sheet does.
    overlay.addEventListener('click', (e) => {
      if (e.target === overlay) done('cancel');
    });
    document.addEventListener('keydown', onKey);
    sheet.append(title, desc, amount, pay, cancel);
    overlay.append(sheet);
    document.body.append(overlay);
    pay.focus();
  });
}
