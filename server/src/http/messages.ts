// /api/wechat/messages: the mini program's message-push URL (消息推送), JSON format. GET answers
// WeChat's URL check; POST takes pushes in plaintext or safe mode. A push whose signature, timestamp
// or appid does not hold changes nothing. Handled: trade_manage_order_settlement (shipped, then
// settled → the shipment moves to RECEIVED / COMPLETED) and trade_manage_remind_shipping (logged for
// the operator: an order unshipped for 48 hours).
import express, { type Router } from 'express';
import { applySettlementPush, type FulfilmentDeps } from '../domain/fulfilment';
import { AppError } from '../domain/errors';
import type { ReminderLog } from '../domain/reminders';
import { aesKeyOf, decryptMessage, pushSignature, sameSignature } from '../wechat/message-crypto';

/** choice: WeChat documents no window for a push's timestamp; 5 minutes either way, as for WeChat Pay. */
export const PUSH_MAX_SKEW_S = 300;

export interface MessageDeps extends FulfilmentDeps {
  config: { token: string; aesKey: string; appid: string } | null;
  reminders: ReminderLog;
}

export function messageRoutes(deps: MessageDeps): Router {
  const r = express.Router();
  const config = deps.config;
  const key = config ? aesKeyOf(config.aesKey) : null;
  r.use((req, _res, next) => {
    if (!config || !key) throw new AppError('NOT_FOUND', `no route ${req.method} ${req.originalUrl.split('?')[0]}`);
    next();
  });
  const q = (v: unknown) => (typeof v === 'string' ? v : '');
  const fresh = (timestamp: string) => /^\d{1,12}$/.test(timestamp) && Math.abs(deps.now() / 1000 - Number(timestamp)) <= PUSH_MAX_SKEW_S;
  const refuse = (res: express.Response, why: string) => {
    deps.logger.warn({ why }, 'message push refused');
    res.status(401).type('text/plain').send(why);
  };

  // The URL check when the push URL is configured: echo echostr once the signature holds.
  r.get('/', (req, res) => {
    const { signature, timestamp, nonce, echostr } = {
      signature: q(req.query.signature),
      timestamp: q(req.query.timestamp),
      nonce: q(req.query.nonce),
      echostr: q(req.query.echostr),
    };
    if (!sameSignature(signature, pushSignature(config!.token, timestamp, nonce))) return refuse(res, 'signature does not match');
    res.type('text/plain').send(echostr);
  });

  r.post('/', express.text({ type: () => true, limit: '64kb' }), async (req, res) => {
    const timestamp = q(req.query.timestamp);
    const nonce = q(req.query.nonce);
    if (!fresh(timestamp)) return refuse(res, 'timestamp missing or too far from now');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : '') as Record<string, unknown>;
    } catch {
      return res.status(400).type('text/plain').send('send JSON (the message push format must be JSON)');
    }
    let message: Record<string, unknown>;
    if (q(req.query.encrypt_type) === 'aes') {
      const encrypted = q(body.Encrypt);
      if (!encrypted || !sameSignature(q(req.query.msg_signature), pushSignature(config!.token, timestamp, nonce, encrypted)))
        return refuse(res, 'msg_signature does not match');
      try {
        message = JSON.parse(decryptMessage(key!, encrypted, config!.appid)) as Record<string, unknown>;
      } catch (err) {
        return refuse(res, `cannot decrypt: ${(err as Error).message}`);
      }
    } else {
      if (!sameSignature(q(req.query.signature), pushSignature(config!.token, timestamp, nonce)))
        return refuse(res, 'signature does not match');
      message = body;
    }
    const event = q(message.Event);
    if (event === 'trade_manage_order_settlement') {
      const num = (v: unknown) =>
        typeof v === 'number' && v > 0 ? v : typeof v === 'string' && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : null;
      const shipment = await applySettlementPush(deps, {
        merchantTradeNo: q(message.merchant_trade_no),
        confirmReceiveTime: num(message.confirm_receive_time),
        settlementTime: num(message.settlement_time),
      });
      deps.logger.info({ event, merchantTradeNo: q(message.merchant_trade_no), status: shipment?.status ?? null }, 'message push');
    } else if (event === 'trade_manage_remind_shipping') {
      const merchantTradeNo = q(message.merchant_trade_no).slice(0, 64);
      const attempt = merchantTradeNo ? await deps.store.findAttempt(merchantTradeNo) : null;
      deps.reminders.add({
        merchantTradeNo,
        transactionId: q(message.transaction_id).slice(0, 64),
        orderId: attempt?.orderId ?? null,
        receivedAt: deps.now(),
      });
      deps.logger.warn(
        { event, merchantTradeNo: q(message.merchant_trade_no), transactionId: q(message.transaction_id) },
        'WeChat reminds: an order has been unshipped for more than 48 hours',
      );
    } else {
      deps.logger.info({ event: event.slice(0, 64) }, 'message push ignored');
    }
    res.type('text/plain').send('success');
  });
  return r;
}
