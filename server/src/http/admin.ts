// /api/admin: the operator's API, behind `Authorization: Bearer <ADMIN_TOKEN>` (admin-guard.ts). Without a
// configured token every admin route answers 404, as if it did not exist.
import express, { type Router } from 'express';
import { z } from 'zod';
import { adminListOrders, adminOrder } from '../domain/admin';
import { type Complaint, toComplaintView } from '../domain/complaint';
import {
  type ComplaintDeps,
  completeComplaint,
  decideComplaintRefund,
  findComplaint,
  listComplaints,
  replyToComplaint,
} from '../domain/complaints';
import type { BookDay } from '../domain/book-day';
import { type BooksDeps, findBookDay, listBookDays, reconcileDayNow } from '../domain/books';
import { shipOrder, type FulfilmentDeps } from '../domain/fulfilment';
import type { CheckoutDeps } from '../domain/deps';
import { AppError } from '../domain/errors';
import { toRefundView } from '../domain/refund';
import { requestRefund } from '../domain/refunds';
import type { AdminGuard } from './admin-guard';
import { idempotencyKey, orderIdParam } from './schemas';
import { parse } from './validate';

/** What an amount must be, said the same way for a string, a fraction or null. */
const WHOLE_FEN = 'whole fen, e.g. 100';

export const refundBody = z.strictObject({
  amount: z.number({ error: WHOLE_FEN }).int({ error: WHOLE_FEN }).positive('must be more than 0'),
  reason: z.string().trim().min(1).max(80).optional(),
  transactionId: z.string().min(1).max(64).optional(),
});

export const adminOrdersQuery = z.strictObject({
  status: z.enum(['PENDING', 'PAID', 'CLOSED']).optional(),
  refundDue: z.enum(['true', 'false']).optional(),
  before: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const shipmentBody = z.strictObject({
  logisticsType: z.enum(['express', 'same-city', 'virtual', 'pickup']),
  packages: z
    .array(z.strictObject({ carrier: z.string().min(1).max(128), trackingNo: z.string().min(1).max(128) }))
    .max(15, 'at most 15 packages')
    .default([]),
  allDelivered: z.boolean().optional(),
});

export const complaintId = z.string().regex(/^(PAY|MINIPROGRAM):[0-9A-Za-z_-]{1,64}$/, 'PAY:<id> or MINIPROGRAM:<id>');
export const complaintsQuery = z.strictObject({ state: z.enum(['NEW', 'IN_PROGRESS', 'RESOLVED']).optional() });
export const complaintReply = z.strictObject({ text: z.string().trim().min(1, 'required').max(200, 'at most 200 characters') });
export const refundDecisionBody = z.discriminatedUnion('approve', [
  z.strictObject({ approve: z.literal(true), amount: z.number({ error: WHOLE_FEN }).int({ error: WHOLE_FEN }).positive().optional() }),
  z.strictObject({ approve: z.literal(false), reason: z.string().trim().min(1, 'required to reject').max(200) }),
]);

export interface AdminComplaints {
  deps: ComplaintDeps;
  /** This server's complaint notification URL. */
  url: string;
}

const bookDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
export const booksQuery = z.strictObject({ from: bookDate.optional(), to: bookDate.optional() });

export interface AdminBooks {
  deps: BooksDeps;
  /** Called with each day reconciled from here (metrics). */
  onDay(day: BookDay): void;
}

export function adminRoutes(
  deps: CheckoutDeps,
  guard: AdminGuard,
  stats: () => Record<string, unknown>,
  fulfilment: FulfilmentDeps,
  books: AdminBooks,
  complaints: AdminComplaints | null,
): Router {
  const r = express.Router();
  r.use(guard.bearer);

  // Complaints from both systems: the inbox (open first, by deadline), one complaint, and the three answers.
  const complaintDeps = () => {
    if (!complaints) throw new AppError('NOT_FOUND', 'complaints are not configured');
    return complaints.deps;
  };
  const view = (c: Complaint) => ({ complaint: toComplaintView(c, complaintDeps().now()) });
  r.put('/complaints/notification-url', async (_req, res) => {
    const deps = complaintDeps();
    try {
      await deps.complaints.registerNotificationUrl(complaints!.url);
    } catch (err) {
      throw new AppError('WECHATPAY_UNREACHABLE', `the complaint notification URL could not be registered: ${(err as Error).message}`);
    }
    res.json({ url: await deps.complaints.notificationUrl() });
  });
  r.get('/complaints', async (req, res) => {
    const q = parse(complaintsQuery, req.query, 'query');
    const deps = complaintDeps();
    res.json({ complaints: (await listComplaints(deps.store, q.state)).map((c) => toComplaintView(c, deps.now())) });
  });
  r.get('/complaints/:id', async (req, res) => {
    res.json(view(await findComplaint(complaintDeps().store, parse(complaintId, req.params.id, 'id'))));
  });
  r.post('/complaints/:id/replies', async (req, res) => {
    const body = parse(complaintReply, req.body);
    res.status(201).json(view(await replyToComplaint(complaintDeps(), parse(complaintId, req.params.id, 'id'), body.text)));
  });
  r.post('/complaints/:id/refund-decision', async (req, res) => {
    const body = parse(refundDecisionBody, req.body);
    const id = parse(complaintId, req.params.id, 'id');
    const decided = await decideComplaintRefund(
      complaintDeps(),
      id,
      body.approve
        ? { approve: true, ...(body.amount !== undefined ? { amount: body.amount } : {}) }
        : { approve: false, reason: body.reason },
    );
    res.json(view(decided));
  });
  r.post('/complaints/:id/complete', async (req, res) => {
    res.json(view(await completeComplaint(complaintDeps(), parse(complaintId, req.params.id, 'id'))));
  });

  // The daily books: a day reconciled against WeChat Pay's bill (dates are Beijing days).
  r.get('/books', async (req, res) => {
    const q = parse(booksQuery, req.query, 'query');
    res.json(await listBookDays(books.deps.store, books.deps.now(), q.from, q.to));
  });
  r.get('/books/:date', async (req, res) => {
    res.json(await findBookDay(books.deps.store, parse(bookDate, req.params.date, 'date')));
  });
  r.post('/books/:date', async (req, res) => {
    const day = await reconcileDayNow(books.deps, parse(bookDate, req.params.date, 'date'));
    books.onDay(day);
    res.status(201).json(day);
  });

  /** This process's counters: the store's commits and the writes they held, refused notifications by reason. */
  r.get('/stats', (_req, res) => {
    res.json({ pid: process.pid, ...stats() });
  });

  r.get('/orders', async (req, res) => {
    const q = parse(adminOrdersQuery, req.query, 'query');
    res.json(await adminListOrders(deps.store, { status: q.status, refundDue: q.refundDue === 'true', before: q.before, limit: q.limit }));
  });

  r.get('/orders/:id', async (req, res) => {
    res.json(await adminOrder(deps.store, parse(orderIdParam, req.params.id, 'id')));
  });

  r.post('/orders/:id/shipments', async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    const body = parse(shipmentBody, req.body);
    const { shipment, created } = await shipOrder(fulfilment, id, body);
    res.status(created ? 201 : 200).json({ shipment });
  });

  r.get('/carriers', async (_req, res) => {
    res.json({
      carriers: await fulfilment.shipping.carriers().catch((err: unknown) => {
        throw new AppError('WECHAT_UNREACHABLE', `WeChat's delivery list could not be read: ${(err as Error).message}`);
      }),
    });
  });

  r.post('/orders/:id/refunds', async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    const body = parse(refundBody, req.body);
    const keyHeader = req.get('Idempotency-Key');
    const key = keyHeader === undefined ? null : parse(idempotencyKey, keyHeader, 'Idempotency-Key');
    const { refund, replayed } = await requestRefund(
      deps,
      id,
      { amount: body.amount, reason: body.reason ?? null, transactionId: body.transactionId },
      key,
    );
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(replayed ? 200 : 201).json({
      refund: {
        ...toRefundView(refund),
        outRefundNo: refund.outRefundNo,
        transactionId: refund.transactionId,
        reason: refund.reason,
        failure: refund.failure,
      },
    });
  });
  return r;
}
