// Payment attempts: each is one reference (out_trade_no) at the provider with the exact request
// that created it. Offering an order for payment reuses a live prepay id, re-posts the identical
// request, or — when the provider will not take that reference again — closes it and opens a new one.
//
// Every call to the provider happens under the order's lease (the one reconciliation takes), and
// the order is read again after each call: Retry and reconciliation never act on one order at the
// same time, and no payment sheet is handed out for an order that is closed or being closed.
import crypto from 'node:crypto';
import { PaymentProviderError, type PaymentSheetParams } from './ports/payment-provider';
import type { CheckoutDeps } from './deps';
import { AppError, paymentFailure } from './errors';
import type { Order, OrderView, PaymentAttempt } from './order';
import { applyPaymentSucceeded } from './payment-events';
import { ownOrder, viewOrderNow } from './read-orders';
import type { User } from './user';

/** prepay_id lives 2 hours; stop handing it out 10 minutes before that. */
export const PREPAY_TTL_MS = 2 * 3600_000;
export const PREPAY_MARGIN_MS = 10 * 60_000;

/** How long to wait for another request (or reconciliation) to finish with the order. */
const LEASE_WAIT_MS = 15_000;

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
  return {
    outTradeNo,
    orderId: order.id,
    requestBody: requestFor(deps, order, outTradeNo, openid),
    prepayId: null,
    prepayExpiresAt: null,
    createdAt: now,
  };
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
  return { order: await viewOrderNow(deps.store, order), payment, replayed: false };
}

function assertPayable(deps: CheckoutDeps, order: Order): void {
  if (order.status === 'PAID') throw new AppError('ORDER_ALREADY_PAID', 'this order is already paid');
  if (order.status === 'CLOSED') throw new AppError('ORDER_CLOSED', 'this order is closed; place a new order');
  if (order.payDeadline <= deps.now()) throw new AppError('ORDER_CLOSED', 'the time to pay this order has passed; place a new order');
}

/** A name for one request's lease on an order. */
export const leaseOwner = () => `checkout-${crypto.randomBytes(6).toString('hex')}`;

/**
 * The payment sheet's fields for the order. `held` names a lease on the order that the caller already
 * holds (a new order is inserted leased to its checkout): then nobody else can have touched it, and
 * no claim is made.
 */
export async function preparePayment(
  deps: CheckoutDeps,
  user: User,
  given: Order,
  held: string | null = null,
): Promise<PaymentSheetParams> {
  const owner = held ?? leaseOwner();
  const waitUntil = deps.now() + LEASE_WAIT_MS;
  for (let order = given; ; ) {
    assertPayable(deps, order);
    const attempt = await deps.store.findAttempt(order.outTradeNo);
    if (!attempt) throw new AppError('INTERNAL', 'payment attempt missing');
    const now = deps.now();
    // A live prepay id needs no call to the provider: sign fresh fields for it.
    if (!held && attempt.prepayId && attempt.prepayExpiresAt !== null && attempt.prepayExpiresAt > now) {
      return deps.provider.sheetParams(attempt.prepayId, now);
    }
    if (held || (await deps.store.claimOrder(order.id, owner, now + deps.leaseMs, now))) {
      let released = false;
      try {
        const fresh = held ? order : ((await deps.store.findOrder(order.id)) ?? order);
        held = null; // from here on, a lease is claimed like anyone else's
        if (fresh.outTradeNo !== order.outTradeNo) {
          order = fresh; // another request moved it on while we waited: start again from what it did
          continue;
        }
        const params = await prepareUnderLease(deps, user, fresh, attempt, owner);
        released = true; // with the prepay_id, in the same write
        return params;
      } finally {
        if (!released) await deps.store.releaseOrder(order.id, owner).catch(() => undefined);
      }
    }
    // Someone else (a concurrent request, or reconciliation) is working on the order: wait, then look again.
    if (deps.now() > waitUntil) throw new AppError('WECHATPAY_BUSY', 'the order is being updated; try again in a moment');
    await deps.sleep(50);
    order = (await deps.store.findOrder(order.id)) ?? order;
  }
}

async function prepareUnderLease(
  deps: CheckoutDeps,
  user: User,
  order: Order,
  attempt: PaymentAttempt,
  owner: string,
): Promise<PaymentSheetParams> {
  assertPayable(deps, order);
  const current = requestFor(deps, order, attempt.outTradeNo, user.openid);
  let prepayId: string;
  let outTradeNo = attempt.outTradeNo;
  try {
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
  } catch (err) {
    // Paid already, with the notification lost: take the payment, then say so.
    if (err instanceof PaymentProviderError && err.failure === 'ALREADY_PAID') await takePayment(deps, order);
    throw err;
  }
  // The deadline may have passed while the provider answered: then this sheet must never be shown.
  const after = await deps.store.findOrder(order.id);
  if (after?.status !== 'PENDING' || after.payDeadline <= deps.now()) {
    await deps.provider.close(outTradeNo).catch((err: unknown) => {
      if (err instanceof PaymentProviderError && err.failure === 'ALREADY_PAID') return takePayment(deps, order);
      throw err;
    });
    assertPayable(deps, after ?? { ...order, status: 'CLOSED' });
  }
  // The prepay_id is recorded (and the lease released) while the sheet's fields are signed.
  const [, params] = await Promise.all([
    deps.store.setPrepay(outTradeNo, prepayId, deps.now() + PREPAY_TTL_MS - PREPAY_MARGIN_MS, { orderId: order.id, owner }),
    deps.provider.sheetParams(prepayId, deps.now()),
  ]);
  return params;
}

/** The provider says the order's current attempt is paid: apply it, and answer ORDER_ALREADY_PAID. */
async function takePayment(deps: CheckoutDeps, order: Order): Promise<never> {
  const current = (await deps.store.findOrder(order.id)) ?? order;
  for (const reference of new Set([current.outTradeNo, order.outTradeNo])) {
    const status = await deps.provider.query(reference);
    if (status?.state === 'SUCCEEDED') await applyPaymentSucceeded(deps, status.payment, 'retry');
  }
  throw new AppError('ORDER_ALREADY_PAID', 'this order is already paid');
}

/** Closes the old reference at the provider (so it can never be paid too), then opens a new one. */
async function newAttempt(
  deps: CheckoutDeps,
  user: User,
  order: Order,
  previous: PaymentAttempt,
): Promise<{ prepayId: string; outTradeNo: string }> {
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
