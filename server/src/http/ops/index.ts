// /admin: the operator's page. Server-rendered HTML, no script at all: orders with filters and charts of
// the last day (orders-page.ts), one order's whole story with the ship and refund forms (order-page.ts),
// refused notifications by reason, WeChat's shipping reminders, "reconcile now". Signed in with the
// admin token (session.ts); every form post must come from this origin.
import express, { type Request, type Response, type Router } from 'express';
import { adminListOrders, adminOrder } from '../../domain/admin';
import type { CheckoutDeps } from '../../domain/deps';
import { AppError } from '../../domain/errors';
import { shipOrder, type FulfilmentDeps } from '../../domain/fulfilment';
import type { OrderStatus } from '../../domain/order';
import type { ReconcileReport } from '../../domain/reconcile';
import { requestRefund } from '../../domain/refunds';
import type { ReminderLog } from '../../domain/reminders';
import { statusOf } from '../errors';
import { orderIdParam } from '../schemas';
import { refundInputOf, shipInputOf } from './forms';
import { banner, html, page, yuan } from './html';
import { orderPage } from './order-page';
import { ordersPage } from './orders-page';
import { opsSignIn, sameOrigin } from './session';
import { OPS_CSS } from './styles';

export { parseYuan } from './forms';

export interface OpsDeps {
  payments: CheckoutDeps;
  fulfilment: FulfilmentDeps;
  reminders: ReminderLog;
  adminToken: string | null;
  reconcileNow(): Promise<ReconcileReport>;
  /** Refused notification deliveries since start, by reason. */
  refusedNotifications(): Record<string, number>;
}

const notFound = (req: Request) => new AppError('NOT_FOUND', `no route ${req.method} ${req.originalUrl.split('?')[0]}`);

export function opsRoutes(deps: OpsDeps): Router {
  const r = express.Router();
  const token = deps.adminToken;
  r.use((req, res, next) => {
    if (!token) throw notFound(req);
    // The page has no script and takes nothing from elsewhere.
    res.set(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    res.set('Cache-Control', 'no-store');
    // Browsers send Origin on this site's own form posts only with a referrer policy that allows it.
    res.set('Referrer-Policy', 'same-origin');
    // Form posts only from this origin (the cookie is SameSite=Strict as well).
    if (req.method === 'POST' && !sameOrigin(req)) throw new AppError('UNAUTHENTICATED', 'cross-site form posts are refused');
    next();
  });
  if (!token) return r;
  r.use(express.urlencoded({ extended: false, limit: '4kb' }));
  r.get('/ops.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=3600').send(OPS_CSS);
  });
  const signIn = opsSignIn(token);
  r.use(signIn.routes);
  r.use(signIn.required); // everything below needs the session

  const flashOf = (req: Request) => (typeof req.query.msg === 'string' ? banner(req.query.msg.slice(0, 200)) : '');

  r.get('/', async (req, res) => {
    const status = ['PENDING', 'PAID', 'CLOSED'].includes(String(req.query.status)) ? (String(req.query.status) as OrderStatus) : undefined;
    const refundDue = req.query.refundDue === 'on';
    const date = /^\d{4}-\d{2}-\d{2}$/.test(String(req.query.date ?? '')) ? String(req.query.date) : '';
    // A date shows that day and before (Beijing time), newest first.
    const before = date ? new Date(Date.parse(`${date}T00:00:00+08:00`) + 86_400_000).toISOString() : undefined;
    const list = await adminListOrders(deps.payments.store, { status, refundDue, before, limit: 50 });
    // The charts read the latest 1,000 orders.
    const recent = await deps.payments.store.listOrders({ limit: 1000 });
    const body = ordersPage({
      now: deps.payments.now(),
      recent,
      refused: deps.refusedNotifications(),
      reminders: deps.reminders.recent().slice(0, 20),
      filter: { status, refundDue, date },
      list,
    });
    res.type('html').send(page('订单', html`${flashOf(req)}${body}`, { signedIn: true }));
  });

  r.post('/reconcile', async (_req, res) => {
    const report = await deps.reconcileNow();
    const errors = report.errors + report.refunds.errors;
    const msg = `对账完成：检查 ${report.examined} 笔，确认支付 ${report.paid} 笔，关闭 ${report.closed} 笔，标记复核 ${report.flagged} 笔，退款确认 ${report.refunds.settled} 笔${errors ? `，出错 ${errors} 笔（见日志）` : ''}`;
    res.redirect(303, `/admin?msg=${encodeURIComponent(msg)}`);
  });

  const showOrder = async (req: Request, res: Response, message?: { text: string; error: boolean }) => {
    const id = orderIdParam.safeParse(req.params.id);
    if (!id.success) throw new AppError('NOT_FOUND', 'order not found');
    const d = await adminOrder(deps.payments.store, id.data);
    const carriers = d.order.status === 'PAID' ? await deps.fulfilment.shipping.carriers().catch(() => []) : [];
    const flash = message ? banner(message.text, message.error) : flashOf(req);
    res.type('html').send(page(`订单 ${d.order.outTradeNo}`, html`${flash}${orderPage(d, carriers)}`, { signedIn: true }));
  };
  /** A refusal the operator can act on is shown on the order's page; anything else goes to the error middleware. */
  const failed = async (req: Request, res: Response, err: unknown, what: string) => {
    if (!(err instanceof AppError) || statusOf(err) >= 500) throw err;
    await showOrder(req, res.status(statusOf(err)), { text: `${what}：${err.message}`, error: true });
  };
  r.get('/orders/:id', (req, res) => showOrder(req, res));

  r.post('/orders/:id/ship', async (req, res) => {
    const id = orderIdParam.safeParse(req.params.id);
    if (!id.success) throw new AppError('NOT_FOUND', 'order not found');
    const input = shipInputOf(req.body);
    if (!input) return showOrder(req, res.status(400), { text: '请选择配送方式', error: true });
    try {
      const { shipment } = await shipOrder(deps.fulfilment, id.data, input);
      const text =
        shipment.upload === 'ACCEPTED'
          ? '已发货，微信已收到发货信息'
          : shipment.upload === 'REFUSED'
            ? `已记录，但微信拒绝了发货信息（${shipment.refusal?.code}）：${shipment.refusal?.fix}`
            : '已记录；微信暂时未能接收，系统会自动重试上传';
      res.redirect(303, `/admin/orders/${id.data}?msg=${encodeURIComponent(text)}`);
    } catch (err) {
      await failed(req, res, err, '未能发货');
    }
  });

  r.post('/orders/:id/refund', async (req, res) => {
    const id = orderIdParam.safeParse(req.params.id);
    if (!id.success) throw new AppError('NOT_FOUND', 'order not found');
    const { amount, reason, key } = refundInputOf(req.body);
    if (amount === null || amount <= 0)
      return showOrder(req, res.status(400), { text: '金额应为大于 0 的数字，最多两位小数（元），例如 10.00', error: true });
    try {
      const { refund, replayed } = await requestRefund(deps.payments, id.data, { amount, reason }, key);
      const text = `${replayed ? '已提交过：' : ''}退款 ${yuan(refund.amount)} ${refund.status === 'SUCCESS' ? '已完成' : '已提交，等待微信支付确认'}（${refund.outRefundNo}）`;
      res.redirect(303, `/admin/orders/${id.data}?msg=${encodeURIComponent(text)}`);
    } catch (err) {
      await failed(req, res, err, '未能退款');
    }
  });
  return r;
}
