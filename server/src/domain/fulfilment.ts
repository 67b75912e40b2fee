// Shipping a paid order and following it to completion. The domain decides every move; the store
// applies each as a conditional write on the shipment's version, so two operators, the reconciler and
// WeChat's pushes can race harmlessly. Nothing is lost on the way to WeChat: the shipment is recorded
// first, then uploaded; an upload WeChat could not take (busy, unreachable) stays PENDING and the
// reconciler sends it again; one WeChat refused is kept REFUSED with its code and the fix.
import crypto from 'node:crypto';
import type { Logger } from './ports/logger';
import { ShippingProviderError, type ShippingProvider, type WechatFulfilment } from './ports/shipping-provider';
import type { OrderStore, PaymentStore, ShipmentStore, UserStore } from './ports/store';
import { AppError, notFound } from './errors';
import type { User } from './user';
import {
  isUploadHeld,
  itemDescription,
  movesForward,
  type LogisticsType,
  type Shipment,
  type ShipmentPackage,
  type ShipmentStatus,
} from './shipment';

export interface FulfilmentDeps {
  store: OrderStore & PaymentStore & ShipmentStore & UserStore;
  shipping: ShippingProvider;
  now(): number;
  logger: Logger;
  /** The shop's contact number: SF Express shipments need it (sent masked). */
  contactPhone: string | null;
  /** WECHATPAY_MCHID: kept with each shipment for the confirm-receipt component. */
  merchantId: string;
}

export interface ShipInput {
  logisticsType: LogisticsType;
  packages: ShipmentPackage[];
  allDelivered?: boolean;
}

const invalid = (field: string, message: string) => new AppError('VALIDATION_FAILED', `${field}: ${message}`, { field });

/** Records the shipment (or its one change), then uploads it. The answer says how the upload went. */
export async function shipOrder(
  deps: FulfilmentDeps,
  orderId: string,
  input: ShipInput,
): Promise<{ shipment: Shipment; created: boolean }> {
  const order = await deps.store.findOrder(orderId);
  if (!order) throw notFound('order');
  if (order.status !== 'PAID') throw new AppError('ORDER_NOT_PAID', 'only a paid order can be shipped');
  const refunds = await deps.store.listRefunds(order.id);
  const refunding = refunds.filter((r) => r.status === 'SUCCESS' || r.status === 'PROCESSING').reduce((n, r) => n + r.amount, 0);
  if (refunding >= order.total) throw new AppError('ORDER_REFUNDED', 'this order is refunded in full: there is nothing to ship');

  // The content, checked before anything is written or sent.
  let names = new Map<string, string>();
  if (input.logisticsType === 'express') {
    if (input.packages.length === 0) throw invalid('packages', 'an express shipment needs at least one package');
    if (input.packages.length > 15) throw invalid('packages', 'at most 15 packages');
    const list = await deps.shipping.carriers().catch(() => [] as { id: string; name: string }[]);
    const carriers = new Set(list.map((c) => c.id));
    names = new Map(list.map((c) => [c.id, c.name]));
    for (const [i, p] of input.packages.entries()) {
      if (!p.carrier) throw invalid(`packages[${i}].carrier`, 'required for express');
      if (carriers.size && !carriers.has(p.carrier))
        throw invalid(`packages[${i}].carrier`, `${p.carrier} is not in WeChat's delivery list (GET /api/admin/carriers)`);
      if (!p.trackingNo) throw invalid(`packages[${i}].trackingNo`, 'required for express');
      if (Buffer.byteLength(p.trackingNo) > 128) throw invalid(`packages[${i}].trackingNo`, 'at most 128 bytes');
      if (p.carrier === 'SF' && !deps.contactPhone)
        throw invalid(`packages[${i}].carrier`, "SF Express needs the shop's contact number: set SHOP_CONTACT_PHONE on the server");
    }
  } else if (input.packages.length > 0) {
    throw invalid('packages', `a ${input.logisticsType} shipment has no packages`);
  }

  const existing = await deps.store.findShipment(order.id);
  if (existing && existing.status !== 'SHIPPED')
    throw new AppError('SHIPMENT_LOCKED', 'the shopper has confirmed receipt: the shipment can no longer change');
  if (existing && isUploadHeld(existing, deps.now()))
    throw new AppError('SHIPMENT_CHANGED', 'the shipment is being sent to WeChat right now: load the order again in a moment');
  // WeChat allows one change of an accepted shipment; a third is refused here, before calling it.
  if (existing && existing.upload === 'ACCEPTED' && existing.shipCount >= 2) {
    throw new AppError(
      'RESHIP_USED',
      'WeChat allows one change of a shipment and it has been used; change it in the mini program admin console (发货信息管理) if it must change',
    );
  }
  const user = await deps.store.findUserById(order.userId);
  if (!user) throw new AppError('INTERNAL', 'the order has no shopper');
  const now = deps.now();
  const next: Shipment = {
    orderId: order.id,
    merchantId: deps.merchantId,
    status: 'SHIPPED',
    logisticsType: input.logisticsType,
    packages: input.packages.map((p) => ({
      carrier: p.carrier,
      carrierName: p.carrier ? (names.get(p.carrier) ?? null) : null,
      trackingNo: p.trackingNo,
    })),
    allDelivered: input.allDelivered ?? true,
    itemDesc: itemDescription(order.lines),
    shipCount: existing ? (existing.upload === 'ACCEPTED' ? 2 : existing.shipCount) : 1,
    upload: 'PENDING',
    uploadTime: Math.max(now, (existing?.uploadTime ?? 0) + 1),
    uploadAttempts: 0,
    refusal: null,
    wechatState: existing?.wechatState ?? null,
    uploadClaim: null,
    version: (existing?.version ?? 0) + 1,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    receivedAt: null,
    completedAt: null,
  };
  if (!(await deps.store.saveShipment(next, existing?.version ?? null))) {
    throw new AppError('SHIPMENT_CHANGED', 'the shipment changed meanwhile: load the order again');
  }
  deps.logger.info(
    { orderId: order.id, logisticsType: next.logisticsType, packages: next.packages.length, shipCount: next.shipCount },
    existing ? 'shipment changed' : 'shipment recorded',
  );
  const uploaded = await uploadShipment(deps, next, user.openid, order.outTradeNo);
  return { shipment: uploaded ?? (await deps.store.findShipment(order.id)) ?? next, created: !existing };
}

/** Sends a recorded shipment to WeChat and records how it went. */
/** How long an upload holds its shipment: longer than the call can take (its timeout, a token refresh and one retry). */
export const UPLOAD_HOLD_MS = 60_000;

/**
 * Sends a recorded shipment to WeChat and records how it went. The upload first takes the shipment (a
 * conditional write of a claim): while it holds it, nobody else uploads it and reconciliation leaves it
 * alone. WeChat's answer is then recorded on whatever the shipment has become meanwhile (a push may have
 * moved it), as long as the claim still holds it; a claim someone replaced means the answer is stale and
 * theirs stands. Null when another upload held the shipment (nothing was sent).
 */
export async function uploadShipment(deps: FulfilmentDeps, s: Shipment, payerOpenid: string, outTradeNo: string): Promise<Shipment | null> {
  const owner = `upload-${crypto.randomBytes(6).toString('hex')}`;
  const claimed: Shipment = {
    ...s,
    uploadClaim: { owner, until: deps.now() + UPLOAD_HOLD_MS },
    version: s.version + 1,
    updatedAt: deps.now(),
  };
  if (isUploadHeld(s, deps.now()) || !(await deps.store.saveShipment(claimed, s.version))) return null;
  let answer: Pick<Shipment, 'upload' | 'refusal'> & { wechatState: number | null };
  try {
    const at = await deps.shipping.upload({
      outTradeNo,
      payerOpenid,
      logisticsType: s.logisticsType,
      packages: s.packages,
      allDelivered: s.allDelivered,
      itemDesc: s.itemDesc,
      uploadTime: s.uploadTime,
    });
    answer = { upload: 'ACCEPTED', refusal: null, wechatState: at.wechatState };
  } catch (err) {
    if (!(err instanceof ShippingProviderError)) {
      await recordAnswer(deps, s.orderId, owner, { upload: s.upload, refusal: s.refusal, wechatState: null }); // give the claim back
      throw err;
    }
    if (err.retryable) {
      deps.logger.warn(
        { orderId: s.orderId, code: err.code },
        'shipment upload not taken by WeChat yet; reconciliation will send it again',
      );
      answer = { upload: 'PENDING', refusal: s.refusal, wechatState: null };
    } else {
      deps.logger.warn({ orderId: s.orderId, code: err.code }, 'WeChat refused the shipment');
      answer = { upload: 'REFUSED', refusal: { code: err.code ?? 0, message: err.message, fix: err.fix ?? '' }, wechatState: null };
    }
  }
  return recordAnswer(deps, s.orderId, owner, answer);
}

/** Records an upload's answer and gives its claim back, on the shipment as it is now, while the claim is still `owner`'s. */
async function recordAnswer(
  deps: Pick<FulfilmentDeps, 'store' | 'now'>,
  orderId: string,
  owner: string,
  answer: Pick<Shipment, 'upload' | 'refusal'> & { wechatState: number | null },
): Promise<Shipment | null> {
  for (let i = 0; i < 5; i++) {
    const current = await deps.store.findShipment(orderId);
    if (!current || current.uploadClaim?.owner !== owner) return current; // replaced meanwhile: theirs stands
    const next: Shipment = {
      ...current,
      upload: answer.upload,
      refusal: answer.refusal,
      // What a push or a query has said since is newer than what the upload implies.
      wechatState: current.wechatState ?? answer.wechatState,
      uploadClaim: null,
      uploadAttempts: current.uploadAttempts + 1,
      version: current.version + 1,
      updatedAt: deps.now(),
    };
    if (await deps.store.saveShipment(next, current.version)) return next;
  }
  return deps.store.findShipment(orderId);
}

const FROM_WECHAT: Partial<Record<WechatFulfilment, ShipmentStatus>> = { RECEIVED: 'RECEIVED', COMPLETED: 'COMPLETED' };

/** Moves a shipment forward to what WeChat says (never back); records WeChat's order_state either way. */
export async function advanceShipment(
  deps: Pick<FulfilmentDeps, 'store' | 'now' | 'logger'>,
  orderId: string,
  to: ShipmentStatus | null,
  wechatState: number | null,
  at: number,
): Promise<Shipment | null> {
  for (let i = 0; i < 3; i++) {
    const s = await deps.store.findShipment(orderId);
    if (!s) return null;
    const forward = to !== null && movesForward(s.status, to);
    if (!forward && (wechatState === null || wechatState === s.wechatState)) return s;
    const next: Shipment = {
      ...s,
      ...(forward ? { status: to!, receivedAt: s.receivedAt ?? at, completedAt: to === 'COMPLETED' ? at : s.completedAt } : {}),
      wechatState: wechatState ?? s.wechatState,
      version: s.version + 1,
      updatedAt: deps.now(),
    };
    if (await deps.store.saveShipment(next, s.version)) {
      if (forward) deps.logger.info({ orderId, from: s.status, to }, 'shipment moved');
      return next;
    }
  }
  return deps.store.findShipment(orderId);
}

/** Asks WeChat where the order is and moves the shipment forward to match. */
export async function checkWithWechat(deps: FulfilmentDeps, orderId: string, outTradeNo: string): Promise<Shipment | null> {
  const status = await deps.shipping.status(outTradeNo);
  if (!status) return deps.store.findShipment(orderId);
  return advanceShipment(deps, orderId, FROM_WECHAT[status.state] ?? null, status.wechatState, deps.now());
}

/** The shopper came back from the confirm-receipt component: believe WeChat, not the client. */
export async function confirmReceipt(deps: FulfilmentDeps, user: User, orderId: string): Promise<Shipment | null> {
  const order = await deps.store.findOrder(orderId);
  if (!order || order.userId !== user.id) throw notFound('order');
  const s = await deps.store.findShipment(order.id);
  if (!s) throw new AppError('ORDER_NOT_PAID', 'this order has not been shipped yet');
  return checkWithWechat(deps, order.id, order.outTradeNo);
}

export interface ShipmentSyncReport {
  examined: number;
  uploaded: number;
  refused: number;
  moved: number;
  errors: number;
}

/** Reconciliation: sends PENDING uploads again, and asks WeChat about accepted shipments not yet completed (pushes can be lost). */
export async function syncShipments(deps: FulfilmentDeps, limit = 50): Promise<ShipmentSyncReport> {
  const report: ShipmentSyncReport = { examined: 0, uploaded: 0, refused: 0, moved: 0, errors: 0 };
  for (const s of await deps.store.listShipmentsToSync(deps.now(), limit)) {
    report.examined += 1;
    try {
      const order = await deps.store.findOrder(s.orderId);
      if (!order) continue;
      if (s.upload === 'PENDING') {
        const user = await deps.store.findUserById(order.userId);
        if (!user) continue;
        const after = await uploadShipment(deps, s, user.openid, order.outTradeNo);
        if (after?.upload === 'ACCEPTED') report.uploaded += 1;
        if (after?.upload === 'REFUSED') report.refused += 1;
      } else {
        const after = await checkWithWechat(deps, order.id, order.outTradeNo);
        if (after && after.status !== s.status) report.moved += 1;
      }
    } catch (err) {
      report.errors += 1;
      deps.logger.warn({ orderId: s.orderId, err: (err as Error).message }, 'shipment reconciliation failed; will try again next round');
    }
  }
  return report;
}

/** WeChat pushed that an order moved (shipped, receipt confirmed, settled): move its shipment forward to match. */
export async function applyOrderMoved(
  deps: Pick<FulfilmentDeps, 'store' | 'now' | 'logger'>,
  push: { outTradeNo: string; state: WechatFulfilment; wechatState: number; at: number },
): Promise<Shipment | null> {
  const attempt = await deps.store.findAttempt(push.outTradeNo);
  if (!attempt) return null;
  return advanceShipment(deps, attempt.orderId, FROM_WECHAT[push.state] ?? null, push.wechatState, push.at);
}
