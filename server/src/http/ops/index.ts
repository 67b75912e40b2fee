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
import { parseYuan, refundInputOf, shipInputOf } from './forms';
import { banner, html, page } from './html';
import { type NoticeCode, noticeOf, withNotice } from './notices';
import { orderPage } from './order-page';
import { complaintPage, complaintsInbox, orderComplaints, orderMessages } from './complaints-page';
import {
  type ComplaintDeps,
  completeComplaint,
  decideComplaintRefund,
  findComplaint,
  listComplaints,
  replyToComplaint,
} from '../../domain/complaints';
import { bookDayPage, booksPage } from './books-page';
import { beijingDate } from '../../domain/book-day';
import { findBookDay, listBookDays, reconcileDayNow } from '../../domain/books';
import type { AdminBooks } from '../admin';
import { type KeyExpiry, ordersPage } from './orders-page';
import { opsSignIn, sameOrigin } from './session';
import type { AdminGuard } from '../admin-guard';
import type { OpsSessionDeps } from '../../domain/ops-sign-in';
import { OPS_CSS } from './styles';

export { parseYuan } from './forms';

export interface OpsDeps {
  payments: CheckoutDeps;
  fulfilment: FulfilmentDeps;
  reminders: ReminderLog;
  guard: AdminGuard;
  /** The operator's sessions; null without an admin token (every /admin route answers 404). */
  sessions: OpsSessionDeps | null;
  cookieSecure: 'always' | 'when-https';
  reconcileNow(): Promise<ReconcileReport>;
  /** Refused notification deliveries since start, by reason. */
  refusedNotifications(): Record<string, number>;
  /** The daily books (the same use cases as the admin API). */
  books: AdminBooks;
  /** The keys WeChat Pay is verified with, and their expiry. */
  keys(): KeyExpiry[];
  /** Complaints (both systems); null: not configured. */
  complaints: ComplaintDeps | null;
}

const notFound = (req: Request) => new AppError('NOT_FOUND', `no route ${req.method} ${req.originalUrl.split('?')[0]}`);

export function opsRoutes(deps: OpsDeps): Router {
  const r = express.Router();
  const sessions = deps.sessions;
  r.use((req, res, next) => {
    if (!sessions) throw notFound(req);
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
  if (!sessions) return r;
  r.use(express.urlencoded({ extended: false, limit: '4kb' }));
  r.get('/ops.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=3600').send(OPS_CSS);
  });
  const signIn = opsSignIn({ sessions, guard: deps.guard, cookieSecure: deps.cookieSecure });
  r.use(signIn.routes);
  r.use(signIn.required); // everything below needs the session

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
      keys: deps.keys(),
      recent,
      refused: deps.refusedNotifications(),
      reminders: deps.reminders.recent().slice(0, 20),
      filter: { status, refundDue, date },
      list,
    });
    res.type('html').send(page('订单', html`${noticeOf(req.query)}${body}`, { signedIn: true }));
  });

  r.post('/reconcile', async (_req, res) => {
    const r = await deps.reconcileNow();
    const errors = r.errors + r.refunds.errors + r.shipments.errors;
    res.redirect(
      303,
      withNotice('/admin', 'reconciled', {
        examined: r.examined,
        paid: r.paid,
        closed: r.closed,
        flagged: r.flagged,
        refunds: r.refunds.settled,
        errors,
      }),
    );
  });

  // The daily books: the last 30 days, one day with its discrepancies, and "reconcile this day now".
  const showBooks = async (req: Request, res: Response, message?: { text: string; error: boolean }) => {
    const now = deps.books.deps.now();
    const { days } = await listBookDays(deps.books.deps.store, now);
    const flash = message ? banner(message.text, message.error) : noticeOf(req.query);
    res.type('html').send(page('每日对账', html`${flash}${booksPage(now, days, beijingDate(now))}`, { signedIn: true }));
  };
  r.get('/books', (req, res) => showBooks(req, res));
  r.get('/books/:date', async (req, res) => {
    const date = String(req.params.date);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new AppError('NOT_FOUND', 'no such day');
    const day = await findBookDay(deps.books.deps.store, date);
    const orderIds = new Map<string, string>();
    for (const x of day.discrepancies.slice(0, 500)) {
      if (!x.outTradeNo || orderIds.has(x.outTradeNo)) continue;
      const attempt = await deps.payments.store.findAttempt(x.outTradeNo);
      if (attempt) orderIds.set(x.outTradeNo, attempt.orderId);
    }
    res.type('html').send(page(`对账 ${date}`, html`${noticeOf(req.query)}${bookDayPage(day, { orderIds })}`, { signedIn: true }));
  });
  r.post('/books', async (req, res) => {
    const date = String((req.body as Record<string, unknown>).date ?? '');
    try {
      const day = await reconcileDayNow(deps.books.deps, date);
      deps.books.onDay(day);
      res.redirect(
        303,
        withNotice(`/admin/books/${day.date}`, 'books-reconciled', {
          lines: day.lines,
          discrepancies: day.discrepancies.length,
          repaired: day.discrepancies.filter((x) => x.repaired).length,
        }),
      );
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      // Not ready, a bad date, WeChat unreachable: said on the page, in the operator's words, with what to do.
      const text =
        err.code === 'BILL_NOT_READY'
          ? `${date} 的账单微信还在生成（一般次日 10:00 后可下载），请稍后再试`
          : err.code === 'VALIDATION_FAILED'
            ? '请选择已经开始的日期（北京时间）'
            : `未能下载 ${date} 的账单：${err.message}`;
      await showBooks(req, res.status(statusOf(err)), { text, error: true });
    }
  });

  const showOrder = async (req: Request, res: Response, message?: { text: string; error: boolean }) => {
    const id = orderIdParam.safeParse(req.params.id);
    if (!id.success) throw new AppError('NOT_FOUND', 'order not found');
    const d = await adminOrder(deps.payments.store, id.data);
    const carriers = d.order.status === 'PAID' ? await deps.fulfilment.shipping.carriers().catch(() => []) : [];
    const flash = message ? banner(message.text, message.error) : noticeOf(req.query);
    const complaints = deps.complaints ? await deps.complaints.store.listComplaints({ orderId: id.data, limit: 20 }) : [];
    const credits = await deps.payments.store.listCredits(id.data);
    res.type('html').send(
      page(
        `订单 ${d.order.outTradeNo}`,
        html`${flash}${orderComplaints(complaints, deps.payments.now())}${orderPage(d, carriers)}${orderMessages(credits)}`,
        {
          signedIn: true,
        },
      ),
    );
  };

  // Complaints: the inbox, one complaint, and its answers (reply, refund decision, complete).
  const complaintDeps = (req: Request) => {
    if (!deps.complaints) throw notFound(req);
    return deps.complaints;
  };
  r.get('/complaints', async (req, res) => {
    const c = complaintDeps(req);
    const list = await listComplaints(c.store);
    res.type('html').send(page('投诉', html`${noticeOf(req.query)}${complaintsInbox(list, c.now())}`, { signedIn: true }));
  });
  const showComplaint = async (req: Request, res: Response, message?: { text: string; error: boolean }) => {
    const c = complaintDeps(req);
    const complaint = await findComplaint(c.store, String(req.params.id));
    const flash = message ? banner(message.text, message.error) : noticeOf(req.query);
    res.type('html').send(page('投诉', html`${flash}${complaintPage(complaint, c.now())}`, { signedIn: true }));
  };
  r.get('/complaints/:id', (req, res) => showComplaint(req, res));
  /** An answer the operator can act on (a refusal, bad input) is shown on the complaint's page. */
  const answered = async (req: Request, res: Response, what: string, act: () => Promise<unknown>, done: NoticeCode) => {
    try {
      await act();
      res.redirect(303, withNotice(`/admin/complaints/${encodeURIComponent(String(req.params.id))}`, done));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      await showComplaint(req, res.status(statusOf(err)), { text: `${what}：${err.message}`, error: true });
    }
  };
  r.post('/complaints/:id/reply', (req, res) =>
    answered(
      req,
      res,
      '未能回复',
      () => replyToComplaint(complaintDeps(req), String(req.params.id), String(req.body?.text ?? '')),
      'complaint-replied',
    ),
  );
  r.post('/complaints/:id/refund', (req, res) => {
    const approve = req.body?.approve === 'yes';
    const amountText = String(req.body?.amount ?? '').trim();
    const amount = amountText ? parseYuan(amountText) : undefined;
    if (approve && amount === null)
      return showComplaint(req, res.status(400), {
        text: '金额应为大于 0 的数字，最多两位小数（元），例如 10.00；留空则按顾客申请的金额',
        error: true,
      });
    return answered(
      req,
      res,
      approve ? '未能同意退款' : '未能拒绝退款',
      () =>
        decideComplaintRefund(
          complaintDeps(req),
          String(req.params.id),
          approve ? { approve: true, ...(amount ? { amount } : {}) } : { approve: false, reason: String(req.body?.reason ?? '') },
        ),
      approve ? 'complaint-approved' : 'complaint-rejected',
    );
  });
  r.post('/complaints/:id/complete', (req, res) =>
    answered(req, res, '未能标记完成', () => completeComplaint(complaintDeps(req), String(req.params.id)), 'complaint-completed'),
  );
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
      const path = `/admin/orders/${id.data}`;
      if (shipment.upload === 'ACCEPTED') res.redirect(303, withNotice(path, 'shipped'));
      else if (shipment.upload === 'REFUSED') res.redirect(303, withNotice(path, 'ship-refused', { code: shipment.refusal?.code ?? 0 }));
      else res.redirect(303, withNotice(path, 'ship-pending'));
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
      const code = replayed ? 'refund-replayed' : refund.status === 'SUCCESS' ? 'refund-done' : 'refund-submitted';
      res.redirect(303, withNotice(`/admin/orders/${id.data}`, code, { amount: refund.amount }));
    } catch (err) {
      await failed(req, res, err, '未能退款');
    }
  });
  return r;
}
