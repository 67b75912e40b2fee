// POST /api/wechatpay/notify: raw bytes in, the domain decides, the route answers WeChat.
// 2xx only for what was verified and persisted with a settled outcome; 4xx and 5xx make WeChat
// deliver again on its schedule.
import express, { type ErrorRequestHandler, type Response, type Router } from 'express';
import { logContext } from '../logger';
import type { NotificationMetric } from '../metrics';
import { statusOf, toAppError } from './errors';
import type { NotificationOutcome } from '../domain/notification';
import { type NotificationAnswer, receiveNotification, type NotifyDeps } from '../domain/receive-notification';

/** The status WeChat gets for each recorded outcome. */
function statusFor(outcome: NotificationOutcome, settled: boolean): number {
  if (settled) return 204;
  // Unknown order or wrong payee: refused, so WeChat retries (the order may appear, the config be fixed).
  return outcome === 'UNKNOWN_ORDER' || outcome === 'UNKNOWN_REFUND' ? 404 : 400;
}

export function notifyRoutes(deps: NotifyDeps): Router {
  const r = express.Router();
  // The signature covers the bytes exactly as sent: this is the one route that reads them raw.
  // Answered in the provider's own format: v3 reads the status, v2 an exact XML body as well.
  const reply = (res: Response, accepted: boolean, status: number, message: string) => {
    const a = deps.provider.answerNotification({ accepted, status, message });
    res.status(a.status);
    if (a.contentType) res.type(a.contentType);
    return a.body ? res.send(a.body) : res.end();
  };
  // Every line logged while handling a delivery carries WeChat's Request-ID (what WeChat support asks
  // for), cut short: the header is unsigned and a stranger may send kilobytes of it.
  r.use((req, _res, next) => {
    const wechatpayRequestId = req.get('Request-ID')?.slice(0, 64);
    if (!wechatpayRequestId) return next();
    logContext.run({ ...logContext.getStore(), wechatpayRequestId }, next);
  });
  r.post('/', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const fail = (status: number, message: string) => reply(res, false, status, message);
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v[0] : v;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let answer: NotificationAnswer;
    try {
      answer = await receiveNotification(deps, { headers, body });
    } catch (err) {
      // Not persisted: a 5xx makes WeChat deliver again later.
      deps.logger.error({ err: (err as Error).message }, 'notification not persisted; WeChat will retry');
      return fail(500, 'temporarily unable to process; retry');
    }
    if (answer.kind === 'REFUSED') {
      res.locals.notification = { refused: answer.refusal.reason } satisfies NotificationMetric;
      return fail(answer.refusal.unauthentic ? 401 : 400, answer.refusal.message);
    }
    res.locals.notification = { outcome: answer.outcome } satisfies NotificationMetric;
    const status = statusFor(answer.outcome, answer.settled);
    if (status === 204) return reply(res, true, 204, 'OK');
    return fail(status, answer.outcome);
  });
  // A body too large, or unreadable: still WeChat's answer shape, so it knows to retry.
  const errors: ErrorRequestHandler = (err, _req, res, _next) => {
    const e = toAppError(err);
    if (statusOf(e) >= 500) deps.logger.error({ code: e.code, err: (err as Error).message }, 'notification route failed');
    reply(res, false, statusOf(e), e.message);
  };
  r.use(errors);
  return r;
}
