// A local stand-in for api.weixin.qq.com, api.mch.weixin.qq.com and the WeChat app's payment
// sheet. Same paths and formats as WeChat, real signatures, real encryption, in memory. This file
// assembles the parts: state.ts, delivery.ts, code2session.ts, v3-pay.ts, payer.ts.
import express from 'express';
import { createDeliveries, type DeliveryRecord } from './delivery';
import { createBooks } from './books';
import { createSandboxComplaints } from './complaints';
import { createSandboxSubscribe } from './subscribe';
import { code2sessionRoutes } from './code2session';
import type { SandboxKeys } from './keys';
import { payerRoutes } from './payer';
import { createShippingSandbox, type ShippingSandbox } from './shipping';
import {
  createState,
  current,
  defaultSigner,
  issueCode,
  newTransactionId,
  type PlatformSigner,
  type RefundState,
  type SandboxControls,
  type TradeState,
} from './state';
import { v2Routes } from './v2-pay';
import { v3PayRoutes } from './v3-pay';

export { DEFAULT_CONTROLS, type SandboxControls } from './state';
export { RETRY_SCHEDULE_S, type DeliveryRecord } from './delivery';

export interface SandboxOptions {
  keys: SandboxKeys;
  /** An extra platform certificate (PEM + its private key) for certificate-mode tests. */
  certificate?: { pem: string; privateKeyPem: string };
  controls?: Partial<SandboxControls>;
  now?: () => number;
  /** Real WeChat requires https notify URLs; the local sandbox also accepts http. */
  allowHttpNotifyUrl?: boolean;
}

export interface Sandbox {
  app: express.Express;
  /** API v2's mutual-TLS endpoint (/secapi/pay/refund); served by an https server that demands a client certificate. */
  tlsApp: express.Express;
  controls: SandboxControls;
  deliveries: DeliveryRecord[];
  /** Test helper: the signer WeChat would use for notifications now. */
  signer(): PlatformSigner;
  orderState(outTradeNo: string): TradeState | null;
  refundState(outRefundNo: string): RefundState | null;
  /** Test switch: WeChat charges a paid order a second time (another transaction id) and notifies it. */
  duplicateCharge(outTradeNo: string): string;
  /** Issues a login code for a test user, as wx.login would. */
  issueCode(user?: string): { code: string; openid: string };
  /** Tokens, the shipping-info API's orders, pushes and switches (shipping/). */
  shipping: ShippingSandbox;
  /** Resolves once every scheduled notification has been delivered or given up. */
  idle(): Promise<void>;
  stop(): void;
}

export function createSandbox(opts: SandboxOptions): Sandbox {
  const s = createState(opts);
  const deliveries = createDeliveries(s);
  const later = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
  const shipping = createShippingSandbox(s, { later });

  const app = express();
  app.disable('x-powered-by');
  app.use(code2sessionRoutes(s));
  app.use(shipping.routes);
  const books = createBooks(s);
  const complaints = createSandboxComplaints(s, { deliveries, shipping, allowHttp: opts.allowHttpNotifyUrl ?? false });
  s.onRefundSucceeded = (transactionId) => complaints.refundArrived(transactionId);
  app.use(v3PayRoutes(s, { allowHttpNotifyUrl: opts.allowHttpNotifyUrl, later, deliveries, books, complaints }));
  app.use(complaints.miniRoutes);
  const subscribe = createSandboxSubscribe(s, shipping);
  app.use(subscribe.routes);
  if (opts.keys.apiV2Key) app.use(books.v2Routes(), v2Routes(s, { deliveries, tls: false }));
  const tlsApp = express();
  tlsApp.disable('x-powered-by');
  if (opts.keys.apiV2Key) tlsApp.use(v2Routes(s, { deliveries, tls: true }));
  app.use('/sandbox', payerRoutes(s, deliveries, { fileComplaint: (f) => complaints.file(f) }));
  app.use('/sandbox', shipping.controlRoutes); // after the payer router: its loopback guard runs first
  app.use('/sandbox', books.controlRoutes);
  app.use('/sandbox', complaints.controlRoutes);
  app.use('/sandbox', subscribe.controlRoutes);
  app.get('/', (_req, res) =>
    res
      .type('text/plain')
      .send(
        `WeChat sandbox: ${[
          '/sns/jscode2session',
          '/v3/pay/transactions/*',
          '/v3/refund/domestic/refunds',
          '/v3/bill/{tradebill,fundflowbill}',
          '/v3/certificates',
          '/v3/merchant-service/{complaint-notifications,complaints-v2/*}',
          '/wxaapi/minishop/{complaintOrderDetail,bussiRespondComplaint,bussiSupplyRefund}',
          '/cgi-bin/message/subscribe/send',
          '/wxaapi/newtmpl/gettemplate',
          '/v3/billdownload/file',
          '/pay/{unifiedorder,orderquery,closeorder,refundquery,downloadbill}',
          '/cgi-bin/{token,stable_token}',
          '/wxa/sec/order/{upload_shipping_info,get_order,notify_confirm_receive,set_msg_jump_path,is_trade_managed}',
          '/cgi-bin/express/delivery/open_msg/get_delivery_list',
          '/sandbox/{login,pay,prepay/:id,controls,deliveries,books,certificates,complaints/:id,subscribe,subscribe-messages,confirm-receipt,expire-tokens,shipping-controls,shipping/:outTradeNo}',
        ].join(', ')}\n`,
      ),
  );

  return {
    app,
    tlsApp,
    controls: s.controls,
    deliveries: deliveries.records,
    signer: () => defaultSigner(s),
    orderState: (no) => {
      const o = s.orders.get(no);
      return o ? current(s, o).state : null;
    },
    refundState: (no) => s.refunds.get(no)?.status ?? null,
    duplicateCharge(no) {
      const o = s.orders.get(no);
      if (o?.state !== 'SUCCESS') throw new Error(`order ${no} is not paid`);
      const transactionId = newTransactionId(s);
      s.transactions.set(transactionId, no);
      s.ledger.push({ transactionId, outTradeNo: no, at: s.now() });
      deliveries.schedule(o, transactionId);
      return transactionId;
    },
    issueCode: (user) => issueCode(s, user),
    shipping,
    idle: () => deliveries.idle(),
    stop: () => {
      deliveries.stop();
      shipping.stop();
    },
  };
}
