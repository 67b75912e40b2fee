// POST /api/wechatpay/notify: the verification pipeline, then the domain, then WeChat's answer.
import type { RequestHandler } from 'express';
import { handleVerifiedNotification } from '../domain/notifications';
import type { PaymentEventDeps } from '../domain/payment-events';
import { sha256Hex } from '../wechatpay/crypto';
import type { Merchant } from '../wechatpay/merchant';
import { NotificationRejected, parseNotification } from '../wechatpay/notification';
import type { Verifier } from '../wechatpay/verifier';

export interface NotifyDeps extends PaymentEventDeps {
  verifier: Verifier;
  merchant: Merchant;
}

/** Expects the raw body (express.raw). 2xx only for what was verified and persisted. */
export function notifyHandler(deps: NotifyDeps): RequestHandler {
  return async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const h = (name: string) => req.get(name) ?? undefined;
    const requestId = h('Request-ID') ?? null;
    const fail = (status: number, message: string) => res.status(status).json({ code: 'FAIL', message });
    let verified;
    try {
      verified = parseNotification(
        { verifier: deps.verifier, apiV3Key: deps.merchant.apiV3Key, nowMs: deps.now },
        {
          serial: h('Wechatpay-Serial'),
          signature: h('Wechatpay-Signature'),
          timestamp: h('Wechatpay-Timestamp'),
          nonce: h('Wechatpay-Nonce'),
          signatureType: h('Wechatpay-Signature-Type'),
          requestId: requestId ?? undefined,
        },
        raw,
      );
    } catch (err) {
      if (!(err instanceof NotificationRejected)) throw err;
      deps.logger.warn({ reason: err.reason, requestId, serial: h('Wechatpay-Serial') }, 'notification rejected');
      try {
        await deps.store.recordRejectedNotification({
          receivedAt: deps.now(),
          reason: err.reason,
          serial: h('Wechatpay-Serial') ?? null,
          requestId,
          bodySha256: sha256Hex(raw),
        });
      } catch (storeErr) {
        deps.logger.error({ err: (storeErr as Error).message }, 'could not record a rejected notification');
      }
      return fail(err.status, err.message);
    }
    try {
      const answer = await handleVerifiedNotification(deps, verified, requestId);
      deps.logger.info({ notificationId: verified.id, outcome: answer.outcome, duplicate: answer.duplicate, requestId }, 'notification processed');
      if (answer.status === 204) return res.status(204).end();
      return fail(answer.status, answer.outcome);
    } catch (err) {
      // Not persisted: a 5xx makes WeChat deliver again later.
      deps.logger.error({ notificationId: verified.id, err: (err as Error).message }, 'notification not persisted; WeChat will retry');
      return fail(500, 'temporarily unable to process; retry');
    }
  };
}
