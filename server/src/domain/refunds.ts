// Refunds: what may go back, asking the provider for it, and applying what it reports. The amount
// is reserved on the payment first (a conditional write), then the provider is asked; a provider
// that cannot be reached leaves the refund PROCESSING for reconciliation, never lost.
import crypto from 'node:crypto';
import { PaymentProviderError, type RefundReport, type RefundRequest } from './ports/payment-provider';
import type { PaymentDeps } from './deps';
import { AppError, DuplicateKeyError, invalid, notFound, paymentFailure } from './errors';
import type { NotificationOutcome } from './notification';
import type { Order } from './order';
import { isRefundDue, refundStatusesBefore, releasesReservation, type PaymentRecord, type Refund } from './refund';

export interface RefundInput {
  amount: number;
  reason: string | null;
  /** Which payment; by default one that must go back, else the one that paid the order. */
  transactionId?: string;
}

export interface RefundResult {
  refund: Refund;
  replayed: boolean;
}

/** The order's payments, repairing the record of the paying transaction if a crash left it out. */
export async function paymentsOf(deps: PaymentDeps, order: Order): Promise<PaymentRecord[]> {
  const payments = await deps.store.listPayments(order.id);
  if (order.status === 'PAID' && order.transactionId && !payments.some((p) => p.transactionId === order.transactionId)) {
    await deps.store.recordPayment({
      transactionId: order.transactionId,
      orderId: order.id,
      outTradeNo: order.outTradeNo,
      amount: order.total,
      kind: 'ORDER',
      paidAt: order.paidAt ?? order.updatedAt,
    });
    return deps.store.listPayments(order.id);
  }
  return payments;
}

const sameRequest = (r: Refund, input: RefundInput) =>
  r.amount === input.amount && r.reason === input.reason && (input.transactionId === undefined || input.transactionId === r.transactionId);

export async function requestRefund(
  deps: PaymentDeps,
  orderId: string,
  input: RefundInput,
  idempotencyKey: string | null,
): Promise<RefundResult> {
  const order = await deps.store.findOrder(orderId);
  if (!order) throw notFound('order');
  const replay = async (): Promise<RefundResult | null> => {
    const existing = idempotencyKey ? await deps.store.findRefundByIdempotencyKey(order.id, idempotencyKey) : null;
    if (!existing) return null;
    if (!sameRequest(existing, input))
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for another refund; use a new key for a new refund');
    return { refund: existing, replayed: true };
  };
  const replayed = await replay();
  if (replayed) return replayed;

  const payments = await paymentsOf(deps, order);
  if (payments.length === 0) throw new AppError('ORDER_NOT_PAID', 'this order has received no payment; there is nothing to refund');
  const target = input.transactionId
    ? payments.find((p) => p.transactionId === input.transactionId)
    : (payments.find(isRefundDue) ?? payments.find((p) => p.kind === 'ORDER') ?? payments[0]);
  if (!target) throw invalid('transactionId', `not a payment of order ${order.id}`);
  const remaining = target.amount - target.refundReserved;
  if (input.amount > remaining)
    throw invalid('amount', `at most ${remaining} fen of transaction ${target.transactionId} can still be refunded`);

  const now = deps.now();
  const refund: Refund = {
    id: `rf_${crypto.randomUUID().replaceAll('-', '')}`,
    orderId: order.id,
    transactionId: target.transactionId,
    outTradeNo: target.outTradeNo,
    outRefundNo: deps.provider.newRefundReference(now),
    amount: input.amount,
    reason: input.reason,
    status: 'PROCESSING',
    providerRefundId: null,
    idempotencyKey,
    failure: null,
    createdAt: now,
    updatedAt: now,
    settledAt: null,
  };
  try {
    // The conditional write: concurrent requests that together exceed the payment cannot all pass.
    if (!(await deps.store.insertRefund(refund))) {
      const fresh = await deps.store.findPayment(target.transactionId);
      throw invalid(
        'amount',
        `at most ${fresh ? fresh.amount - fresh.refundReserved : 0} fen of transaction ${target.transactionId} can still be refunded`,
      );
    }
  } catch (err) {
    if (err instanceof DuplicateKeyError && err.index === 'idempotency_key') {
      const winner = await replay();
      if (winner) return winner;
    }
    throw err;
  }
  deps.logger.info({ orderId: order.id, refundId: refund.id, amount: refund.amount }, 'refund requested');
  await submitRefund(deps, refund, target);
  return { refund: (await deps.store.findRefund(refund.outRefundNo)) ?? refund, replayed: false };
}

/**
 * Asks the provider for a recorded refund (again, with the same reference: the provider treats it
 * as the same refund). A refusal closes it and gives its amount back; no answer leaves it for
 * reconciliation.
 */
async function submitRefund(deps: PaymentDeps, refund: Refund, payment: PaymentRecord): Promise<void> {
  const request: RefundRequest = {
    outRefundNo: refund.outRefundNo,
    reference: payment.outTradeNo,
    transactionId: payment.transactionId,
    amount: refund.amount,
    total: payment.amount,
    currency: 'CNY',
    reason: refund.reason,
  };
  let report: RefundReport;
  try {
    report = await deps.provider.refund(request);
  } catch (err) {
    if (!(err instanceof PaymentProviderError)) throw err;
    if (err.failure === 'BUSY' || err.failure === 'UNREACHABLE') {
      deps.logger.warn(
        { refundId: refund.id, providerCode: err.providerCode },
        'refund not confirmed by WeChat Pay yet; reconciliation will ask again',
      );
      return;
    }
    const failure = `${err.providerCode ?? err.failure}: ${err.message}`;
    await deps.store.moveRefund(
      refund.outRefundNo,
      refundStatusesBefore('CLOSED'),
      'CLOSED',
      { failure },
      releasesReservation('CLOSED'),
      deps.now(),
    );
    deps.logger.error({ refundId: refund.id, providerCode: err.providerCode }, 'refund refused by WeChat Pay');
    throw paymentFailure(err);
  }
  await applyRefundReport(deps, report, 'request');
}

export interface RefundApplyResult {
  outcome: Extract<NotificationOutcome, 'REFUND_APPLIED' | 'REFUND_UNCHANGED' | 'UNKNOWN_REFUND' | 'MCHID_MISMATCH' | 'AMOUNT_MISMATCH'>;
  orderId: string | null;
  detail: string | null;
}

/** Moves a refund forward as the provider reports it; a repeat or an older report changes nothing. */
export async function applyRefundReport(
  deps: PaymentDeps,
  report: RefundReport,
  source: 'request' | 'notification' | 'reconcile',
): Promise<RefundApplyResult> {
  const refund = await deps.store.findRefund(report.outRefundNo);
  if (!refund) return { outcome: 'UNKNOWN_REFUND', orderId: null, detail: `no refund ${report.outRefundNo}` };
  const result = (outcome: RefundApplyResult['outcome'], detail: string | null = null): RefundApplyResult => ({
    outcome,
    orderId: refund.orderId,
    detail,
  });
  if (report.merchantId !== null && report.merchantId !== deps.provider.payee.merchantId)
    return result('MCHID_MISMATCH', `mchid ${report.merchantId}`);
  if (report.amount !== refund.amount) {
    deps.logger.error(
      { refundId: refund.id, expected: refund.amount, reported: report.amount },
      'refund amount mismatch: not applied, needs review',
    );
    return result('AMOUNT_MISMATCH', `expected a refund of ${refund.amount}, reported ${report.amount}`);
  }
  if (report.providerRefundId && !refund.providerRefundId)
    await deps.store.setRefundProviderId(refund.outRefundNo, report.providerRefundId, deps.now());
  if (report.status === 'PROCESSING') return result('REFUND_UNCHANGED');
  const to = report.status;
  const moved = await deps.store.moveRefund(
    refund.outRefundNo,
    refundStatusesBefore(to),
    to,
    {
      providerRefundId: report.providerRefundId,
      settledAt: to === 'SUCCESS' ? (report.settledAt ?? deps.now()) : null,
      failure: to === 'ABNORMAL' ? 'ABNORMAL: the money could not reach the shopper; handle it in the merchant platform' : null,
    },
    releasesReservation(to),
    deps.now(),
  );
  if (moved)
    (to === 'SUCCESS' ? deps.logger.info : deps.logger.error).call(
      deps.logger,
      { refundId: refund.id, orderId: refund.orderId, status: to, source },
      'refund settled',
    );
  return result(moved ? 'REFUND_APPLIED' : 'REFUND_UNCHANGED');
}

export interface RefundReconcileReport {
  examined: number;
  settled: number;
  resubmitted: number;
  errors: number;
}

/** Asks the provider about refunds still PROCESSING; one it never received is submitted again. */
export async function reconcileRefunds(deps: PaymentDeps & { minAgeMs: number; batchSize?: number }): Promise<RefundReconcileReport> {
  const report: RefundReconcileReport = { examined: 0, settled: 0, resubmitted: 0, errors: 0 };
  const stuck = await deps.store.listRefundsToReconcile(deps.now() - deps.minAgeMs, deps.batchSize ?? 100);
  for (const refund of stuck) {
    report.examined += 1;
    try {
      const found = await deps.provider.queryRefund(refund.outRefundNo);
      if (!found) {
        const payment = await deps.store.findPayment(refund.transactionId);
        if (!payment) throw new Error(`payment ${refund.transactionId} missing`);
        report.resubmitted += 1;
        await submitRefund(deps, refund, payment);
      } else if ((await applyRefundReport(deps, found, 'reconcile')).outcome === 'REFUND_APPLIED') {
        report.settled += 1;
      }
    } catch (err) {
      report.errors += 1;
      deps.logger.warn(
        { refundId: refund.id, err: (err as Error).message },
        'reconciliation of a refund failed; will try again next round',
      );
    }
  }
  return report;
}
