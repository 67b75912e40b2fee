// Payment attempts: each is one reference (out_trade_no) at the provider with the exact request
// that created it. Offering an order for payment reuses a live prepay id, re-posts the identical
// request, or — when the provider will not take that reference again — closes it and opens a new one.
import { PaymentProviderError, type PaymentSheetParams } from '../payments/port';
import type { CheckoutDeps } from './deps';
import { AppError, paymentFailure } from './errors';
import { toOrderView, type Order, type OrderView, type PaymentAttempt } from './order';
import { ownOrder } from './read-orders';
import type { User } from './user';

/** prepay_id lives 2 hours; stop handing it out 10 minutes before that. */
export const PREPAY_TTL_MS = 2 * 3600_000;
export const PREPAY_MARGIN_MS = 10 * 60_000;

export interface CheckoutResult {
  order: OrderView;
  payment: PaymentSheetParams;
  replayed: boolean;
}

function requestFor(deps: CheckoutDeps, order: Order, reference: string, payer: string): string {
  return deps.provider.requestFor({
    reference,
    description: order.description,
    amount: order.total,
    currency: order.currency,
    expiresAt: order.payDeadline,
    payer,
  });
}

export function newPaymentAttempt(deps: CheckoutDeps, order: Order, outTradeNo: string, openid: string, now: number): PaymentAttempt {
  return { outTradeNo, orderId: order.id, requestBody: requestFor(deps, order, outTradeNo, openid), prepayId: null, prepayExpiresAt: null, createdAt: now };
}

/** A failure after the order was saved names the order, so the caller can retry it. */
export async function withOrderId<T>(orderId: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof PaymentProviderError) throw paymentFailure(err, orderId);
    if (err instanceof AppError) throw new AppError(err.code, err.message, { ...err.details, orderId });
    throw err;
  }
}

/** Fresh wx.requestPayment fields for the order's current attempt (the Retry button). */
export async function retryPayment(deps: CheckoutDeps, user: User, orderId: string): Promise<CheckoutResult> {
  const order = await ownOrder(deps.store, user, orderId);
  const payment = await preparePayment(deps, user, order).catch((err: unknown) => {
    throw err instanceof PaymentProviderError ? paymentFailure(err, order.id) : err;
  });
  return { order: toOrderView((await deps.store.findOrder(order.id)) ?? order), payment, replayed: false };
}

function assertPayable(deps: CheckoutDeps, order: Order): void {
  if (order.status === 'PAID') throw new AppError('ORDER_ALREADY_PAID', 'this order is already paid');
  if (order.status === 'CLOSED') throw new AppError('ORDER_CLOSED', 'this order is closed; place a new order');
  if (order.payDeadline <= deps.now()) throw new AppError('ORDER_CLOSED', 'the time to pay this order has passed; place a new order');
}

export async function preparePayment(deps: CheckoutDeps, user: User, order: Order): Promise<PaymentSheetParams> {
  assertPayable(deps, order);
  const attempt = await deps.store.findAttempt(order.outTradeNo);
  if (!attempt) throw new AppError('INTERNAL', 'payment attempt missing');
  const now = deps.now();
  if (attempt.prepayId && attempt.prepayExpiresAt !== null && attempt.prepayExpiresAt > now) {
    return deps.provider.sheetParams(attempt.prepayId, now);
  }
  const current = requestFor(deps, order, attempt.outTradeNo, user.openid);
  let prepayId: string;
  let outTradeNo = attempt.outTradeNo;
  if (current === attempt.requestBody) {
    try {
      // An identical re-post is allowed and returns a usable prepay_id.
      ({ prepayId } = await deps.provider.prepare(attempt.requestBody));
    } catch (err) {
      if (!(err instanceof PaymentProviderError && err.failure === 'REFERENCE_UNUSABLE')) throw err;
      ({ prepayId, outTradeNo } = await newAttempt(deps, user, order, attempt));
    }
  } else {
    // Terms changed (for example the notify URL): the provider requires a new reference.
    ({ prepayId, outTradeNo } = await newAttempt(deps, user, order, attempt));
  }
  await deps.store.setPrepay(outTradeNo, prepayId, deps.now() + PREPAY_TTL_MS - PREPAY_MARGIN_MS);
  return deps.provider.sheetParams(prepayId, deps.now());
}

/** Closes the old reference at the provider (so it can never be paid too), then opens a new one. */
async function newAttempt(deps: CheckoutDeps, user: User, order: Order, previous: PaymentAttempt): Promise<{ prepayId: string; outTradeNo: string }> {
  await deps.provider.close(previous.outTradeNo);
  const now = deps.now();
  const outTradeNo = deps.provider.newReference(now);
  const attempt = newPaymentAttempt(deps, order, outTradeNo, user.openid, now);
  if (!(await deps.store.replaceAttempt(order.id, previous.outTradeNo, attempt, now))) {
    throw new AppError('WECHATPAY_BUSY', 'the order changed while preparing payment; try again');
  }
  const { prepayId } = await deps.provider.prepare(attempt.requestBody);
  return { prepayId, outTradeNo };
}
