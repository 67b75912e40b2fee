// The shipping sandbox's own endpoints under /sandbox (loopback only, behind the payer router's guard):
// the confirm-receipt component's stand-in, the switches, a reminder push on demand, the tokens, and
// what the sandbox holds for one order.
import express, { type Router } from 'express';
import { z } from 'zod';
import { ORDER_STATE } from '../../server/src/wechat/shipping-api';
import type { SandboxState } from '../state';
import { CONFIRM_COMPONENT_APPID, type ShippingControls } from './common';
import type { SandboxPushes } from './pushes';
import type { ShippingRecords } from './records';
import type { SandboxTokens } from './tokens';

export function shippingControlRoutes(
  s: SandboxState,
  o: { tokens: SandboxTokens; records: ShippingRecords; pushes: SandboxPushes; controls: ShippingControls },
): Router {
  const { tokens, records, pushes, controls } = o;
  const controlRoutes = express.Router();
  controlRoutes.post('/confirm-receipt', express.json(), (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const req_extradata = {
      merchant_id: b.merchant_id,
      merchant_trade_no: b.merchant_trade_no,
      ...(b.transaction_id ? { transaction_id: b.transaction_id } : {}),
    };
    const r = records.find(b);
    // As community reports describe the component: cancel when not awaiting receipt, fail for another payer.
    if (r?.state !== ORDER_STATE.SHIPPED)
      return res.json({ appId: CONFIRM_COMPONENT_APPID, extraData: { status: 'cancel', req_extradata } });
    if (typeof b.openid === 'string' && b.openid !== r.openid)
      return res.json({ appId: CONFIRM_COMPONENT_APPID, extraData: { status: 'fail', errormsg: 'not the payer', req_extradata } });
    pushes.received(r, 2);
    res.json({ appId: CONFIRM_COMPONENT_APPID, extraData: { status: 'success', req_extradata } });
  });
  const controlsSchema = z.strictObject({
    failShippingUploads: z
      .strictObject({ errcode: z.number().int(), times: z.number().int().min(1).max(1000) })
      .nullable()
      .optional(),
    dropMessagePushes: z.number().int().min(0).max(1_000_000).optional(),
    autoConfirmSeconds: z
      .number()
      .min(0)
      .max(90 * 86_400)
      .optional(),
  });
  controlRoutes.get('/shipping-controls', (_req, res) => res.json(controls));
  controlRoutes.post('/shipping-controls', express.json(), (req, res) => {
    const parsed = controlsSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return res.status(400).json({ errMsg: `${issue.path.join('.') || 'controls'}: ${issue.message}` });
    }
    for (const [k, v] of Object.entries(parsed.data)) if (v !== undefined) (controls as unknown as Record<string, unknown>)[k] = v;
    res.json(controls);
  });
  // WeChat reminds the merchant about an order unshipped for 48 hours; this sends that push now.
  controlRoutes.post('/remind-shipping', express.json(), (req, res) => {
    const no = String(req.body?.merchant_trade_no ?? '');
    const o = s.orders.get(no);
    const r = o ? records.of(o) : null;
    if (r?.state !== ORDER_STATE.TO_SHIP) return res.status(409).json({ errMsg: 'only a paid order still to ship is reminded' });
    void pushes.push(r, 'trade_manage_remind_shipping', {
      transaction_id: r.transactionId,
      merchant_id: s.keys.mchid,
      sub_merchant_id: '',
      merchant_trade_no: r.outTradeNo,
      pay_time: r.payTime,
      msg: '你有订单超过48小时未发货，请尽快发货',
    });
    res.json({ sent: true });
  });
  controlRoutes.get('/tokens', (_req, res) => res.json({ issued: tokens.issued() }));
  controlRoutes.post('/expire-tokens', (_req, res) => {
    res.json({ expired: tokens.expire() });
  });
  controlRoutes.get('/shipping/:outTradeNo', (req, res) => {
    const o = s.orders.get(req.params.outTradeNo);
    const r = o ? records.of(o) : null;
    if (!r) return res.status(404).json({ errMsg: 'no paid order with this out_trade_no' });
    res.json({
      order: records.json(r),
      uploads: r.uploads,
      pushes: pushes.records
        .filter((p) => p.body.merchant_trade_no === r.outTradeNo)
        .map(({ event, status, attempts }) => ({ event, status, attempts })),
    });
  });

  return controlRoutes;
}
