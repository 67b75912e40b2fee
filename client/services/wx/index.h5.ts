// The browser's side of the seam: the sandbox stands in for wx.login, and an in-page payment
// sheet (amount, Pay, Cancel) stands in for the WeChat app's.
import { formatYuan } from '../money';
import { sandboxLogin, sandboxPay, sandboxSheetInfo } from './sandbox';
import type { PaymentOutcome, RequestPaymentParams, SheetInfo } from './types';
import './pay-sheet.css';

export type { PaymentOutcome, SheetInfo };

export const wxLogin = sandboxLogin;

export async function wxRequestPayment(params: RequestPaymentParams, info: SheetInfo): Promise<PaymentOutcome> {
  const shown = (await sandboxSheetInfo(params)) ?? info; // what WeChat Pay knows, as the real sheet shows
  const choice = await showSheet(shown);
  return sandboxPay(params, choice === 'pay' ? 'success' : 'cancel');
}

function showSheet(info: SheetInfo): Promise<'pay' | 'cancel'> {
  return new Promise((resolve) => {
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
    const done = (choice: 'pay' | 'cancel') => {
      overlay.remove();
      resolve(choice);
    };
    pay.addEventListener('click', () => done('pay'));
    cancel.addEventListener('click', () => done('cancel'));
    sheet.append(title, desc, amount, pay, cancel);
    overlay.append(sheet);
    document.body.append(overlay);
    pay.focus();
  });
}
