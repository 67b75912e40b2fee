// /api/wechat/messages: the mini program's message-push URL (消息推送), JSON format, safe mode. GET answers
// WeChat's URL check; POST takes pushes: wechat/message-push.ts verifies and opens them (plaintext, a bad
// signature, a stale timestamp or another appid: refused, nothing changed), and each (timestamp, nonce)
// is used once, remembered in the store for as long as the timestamp is fresh, so a replay is refused on
// every worker. Refusals are counted by reason and only a sample is logged. What a push says is read by
// the shipping provider and acted on by the domain: an order that moved (shipped, receipt confirmed,
// settled) moves its shipment forward; a reminder about an order unshipped for 48 hours is kept for the
// operator.
import express, { type Router } from 'express';
import { AppError } from '../domain/errors';
import { applyOrderMoved, type FulfilmentDeps } from '../domain/fulfilment';
import { type ComplaintDeps, receiveTradeComplaintPush } from '../domain/complaints';
import type { ReminderLog } from '../domain/reminders';
import type { ReplayStore } from '../domain/ports/store';
import type { RefusalSampler } from '../domain/refusals';
import { answerUrlCheck, openPush, type PushConfig, pushReplayKey } from '../wechat/message-push';

export interface MessageDeps extends FulfilmentDeps {
  config: PushConfig | null;
  /** Trade complaints named by a push are fetched and stored through these. */
  complaints: ComplaintDeps | null;
  reminders: ReminderLog;
  replays: ReplayStore;
  refusals: RefusalSampler;
}

/** What a push's answer tells the metrics middleware (set on `res.locals.push`). */
export type PushMetric = { kind: string } | { refused: string };

export function messageRoutes(deps: MessageDeps): Router {
  const r = express.Router();
  const config = deps.config;
  r.use((req, _res, next) => {
    if (!config) throw new AppError('NOT_FOUND', `no route ${req.method} ${req.originalUrl.split('?')[0]}`);
    next();
  });
  const refuse = (res: express.Response, status: number, reason: string, why: string) => {
    res.locals.push = { refused: reason } satisfies PushMetric;
    if (deps.refusals.sample(reason)) deps.logger.warn({ reason, why }, 'message push refused');
    res.status(status).type('text/plain').send(why);
  };

  r.get('/', (req, res) => {
    const echo = answerUrlCheck(req.query, config!);
    if (echo === null) return refuse(res, 401, 'SIGNATURE', 'signature does not match');
    res.type('text/plain').send(echo);
  });

  r.post('/', express.text({ type: () => true, limit: '64kb' }), async (req, res) => {
    const opened = openPush(req.query, typeof req.body === 'string' ? req.body : '', config!, deps.now());
    if (!opened.ok) return refuse(res, opened.status, opened.reason, opened.message);
    const use = pushReplayKey(opened.timestamp, opened.nonce);
    if (!(await deps.replays.claimOnce(use.key, use.until, deps.now())))
      return refuse(res, 401, 'REPLAY', 'push already received (its timestamp and nonce were used): refused');
    try {
      await act(deps.shipping.readPush(opened.message), res);
    } catch (err) {
      await deps.replays.releaseClaim(use.key).catch(() => undefined); // not acted on: WeChat's retry may go through
      throw err;
    }
    res.type('text/plain').send('success');
  });

  async function act(push: ReturnType<MessageDeps['shipping']['readPush']>, res: express.Response) {
    res.locals.push = { kind: push.kind } satisfies PushMetric;
    if (push.kind === 'ORDER_MOVED') {
      const shipment = await applyOrderMoved(deps, push);
      deps.logger.info({ event: 'order moved', merchantTradeNo: push.outTradeNo, status: shipment?.status ?? null }, 'message push');
    } else if (push.kind === 'REMIND_SHIPPING') {
      const attempt = push.outTradeNo ? await deps.store.findAttempt(push.outTradeNo) : null;
      deps.reminders.add({
        merchantTradeNo: push.outTradeNo,
        transactionId: push.transactionId,
        orderId: attempt?.orderId ?? null,
        receivedAt: deps.now(),
      });
      deps.logger.warn(
        { merchantTradeNo: push.outTradeNo, transactionId: push.transactionId },
        'WeChat reminds: an order has been unshipped for more than 48 hours',
      );
    } else if (push.kind === 'COMPLAINT') {
      if (!deps.complaints) throw new AppError('NOT_FOUND', 'complaints are not configured');
      const c = await receiveTradeComplaintPush(deps.complaints, push.complaintId);
      deps.logger.info({ event: 'complaint', complaintId: c?.id ?? null }, 'message push');
    } else {
      deps.logger.info({ event: push.event }, 'message push ignored');
    }
  }
  return r;
}
