// GET /api/openapi.json: the API as OpenAPI 3.1, generated (zod-openapi) from the very zod schemas
// that validate requests and shape responses. /api/docs renders it with Swagger UI, served from npm.
import path from 'node:path';
import express, { type Router } from 'express';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { COMPLAINTS_PATH, MESSAGES_PATH, NOTIFY_PATH } from '../config';
import { subscriptionsBody } from './orders';
import {
  adminOrdersQuery,
  booksQuery,
  complaintId,
  complaintReply,
  complaintsQuery,
  refundBody,
  refundDecisionBody,
  shipmentBody,
} from './admin';
import { DISCREPANCY_KINDS } from '../domain/book-day';
import {
  checkoutResponseSchema,
  createOrderBody,
  errorResponseSchema,
  healthResponseSchema,
  idempotencyKey,
  loginBody,
  loginResponseSchema,
  orderIdParam,
  orderResponseSchema,
  ordersResponseSchema,
  orderViewSchema,
  productsResponseSchema,
  refundViewSchema,
} from './schemas';

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

/** Error answers, each with what it means on this route; all share the Error body. */
function errors(codes: Record<number, string>): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    Object.entries(codes).map(([status, description]) => [status, { description, content: json(errorResponseSchema) }]),
  );
}
const COMMON = {
  413: 'PAYLOAD_TOO_LARGE: a JSON body over 16 KB',
  415: 'UNSUPPORTED_MEDIA_TYPE: a body that is not application/json',
  500: 'INTERNAL',
  503: 'STORE_UNAVAILABLE: the database cannot be reached; try again',
};
const AUTHED = { 401: 'UNAUTHENTICATED: no token, or an expired one: log in again' };
const ADMIN = {
  401: 'UNAUTHENTICATED: the admin token is missing or wrong',
  404: 'NOT_FOUND: also every admin route when ADMIN_TOKEN is not set',
};
const LIMITED = { 429: 'RATE_LIMITED: too many requests; `Retry-After` says when to try again' };

const idPath = { path: z.object({ id: orderIdParam.meta({ description: 'The order id (ord_ and 32 hex digits)' }) }) };
const keyHeader = {
  header: z.object({
    'Idempotency-Key': idempotencyKey
      .optional()
      .meta({ description: 'The same key and body return the first answer (Idempotent-Replayed: true); another body is refused' }),
  }),
};

const complaintPath = { path: z.object({ id: complaintId.meta({ description: 'PAY:<complaint_id> or MINIPROGRAM:<complaintOrderId>' }) }) };
const complaintSchema = z
  .object({
    id: z.string(),
    source: z.enum(['PAY', 'MINIPROGRAM']),
    orderId: z.string().nullable(),
    state: z.enum(['NEW', 'IN_PROGRESS', 'RESOLVED']),
    deadline: z.string().nullable().meta({ description: 'When the merchant must have acted (ISO 8601); null once resolved' }),
    overdue: z.boolean(),
    problem: z.string(),
    refundRequested: z.number().int().optional().meta({ description: 'What the shopper asked back, fen' }),
    refundDecision: z
      .object({
        approve: z.boolean(),
        amount: z.number().int().nullable(),
        reason: z.string().nullable(),
        outRefundNo: z.string().nullable(),
      })
      .nullable(),
    events: z.array(
      z.object({ at: z.string(), actor: z.enum(['SHOPPER', 'PLATFORM', 'MERCHANT', 'SYSTEM']), kind: z.string(), text: z.string() }),
    ),
  })
  .meta({ id: 'Complaint' });
const complaintAnswer = z.object({ complaint: complaintSchema });
const datePath = { path: z.object({ date: z.string().meta({ description: 'A Beijing day, YYYY-MM-DD', example: '2026-12-01' }) }) };
const fen = z.number().int();
const discrepancySchema = z
  .object({
    kind: z.enum(DISCREPANCY_KINDS),
    outTradeNo: z.string().optional(),
    outRefundNo: z.string().optional(),
    transactionId: z.string().optional(),
    ours: z.union([fen, z.string()]).optional().meta({ description: 'Our amount in fen, or our refund status' }),
    wechat: z.union([fen, z.string()]).optional().meta({ description: "WeChat Pay's amount in fen, or its refund status" }),
    repaired: z.boolean().meta({ description: 'Settled by our own repair (the payment applied, the refund brought up to date)' }),
    detail: z.string().optional(),
  })
  .meta({ id: 'Discrepancy' });
const bookDaySchema = z
  .object({
    date: z.string(),
    status: z.enum(['BALANCED', 'REPAIRED', 'DISCREPANCIES']),
    reconciledAt: z.number().int(),
    noBill: z.boolean().meta({ description: 'WeChat Pay had no bill for the day (no trade); our side was still checked' }),
    lines: z.number().int(),
    matched: z.number().int(),
    totals: z.object({
      wechat: z.object({ payments: fen, refunds: fen, fees: fen, net: fen }),
      ours: z.object({ payments: fen, refunds: fen }),
    }),
    discrepancies: z.array(discrepancySchema),
  })
  .meta({ id: 'BookDay', description: "A day reconciled against WeChat Pay's trade bill; amounts in fen" });
const bookDaysSchema = z.object({ from: z.string(), to: z.string(), days: z.array(bookDaySchema) }).meta({ id: 'BookDays' });

const recordSchema = (id: string, description: string) => z.looseObject({}).meta({ id, description });
const shipmentSchema = z
  .looseObject({
    orderId: z.string(),
    status: z.enum(['SHIPPED', 'RECEIVED', 'COMPLETED']),
    logisticsType: z.enum(['express', 'same-city', 'virtual', 'pickup']),
    packages: z.array(z.looseObject({ carrier: z.string().nullable(), trackingNo: z.string().nullable() })),
    itemDesc: z.string(),
    shipCount: z.number().int().min(1).max(2).meta({ description: '2 once the one change WeChat allows has been used' }),
    upload: z
      .enum(['PENDING', 'ACCEPTED', 'REFUSED'])
      .meta({ description: 'PENDING: reconciliation sends it again; REFUSED: see refusal' }),
    refusal: z.object({ code: z.number(), message: z.string(), fix: z.string() }).nullable(),
    wechatState: z
      .number()
      .int()
      .nullable()
      .meta({ description: "WeChat's order_state: 1 to ship, 2 shipped, 3 confirmed, 4 completed, 5 refunded, 6 awaiting settlement" }),
  })
  .meta({ id: 'Shipment' });
const adminOrderSchema = z
  .object({
    order: orderViewSchema.extend({ userId: z.string(), reviewReason: z.string().nullable() }),
    attempts: z.array(recordSchema('PaymentAttempt', 'One payment attempt: outTradeNo, prepayId, prepayExpiresAt, createdAt')),
    payments: z.array(
      recordSchema(
        'PaymentRecord',
        'A payment WeChat reported: transactionId, amount, kind (ORDER, DUPLICATE, AFTER_CLOSE), paidAt, refundReserved',
      ),
    ),
    notifications: z.array(
      recordSchema('NotificationRecord', 'A notification received: id, eventType, outcome, detail, requestId, deliveries, times'),
    ),
    refunds: z.array(recordSchema('Refund', 'A refund with its provider references and failure, if any')),
    shipment: shipmentSchema.nullable(),
  })
  .meta({ id: 'AdminOrder' });
const adminOrderPageSchema = z
  .object({
    orders: z.array(orderViewSchema.extend({ reviewReason: z.string().nullable() })),
    next: z.string().nullable().meta({ description: 'Pass as `before` for the next page' }),
  })
  .meta({ id: 'AdminOrderPage' });
const adminRefundSchema = z
  .object({
    refund: refundViewSchema.extend({
      outRefundNo: z.string(),
      transactionId: z.string(),
      reason: z.string().nullable(),
      failure: z.string().nullable(),
    }),
  })
  .meta({ id: 'AdminRefundResponse' });
const wechatAnswer = z.object({ code: z.literal('FAIL'), message: z.string() }).meta({ id: 'WechatPayNotifyAnswer' });

const op = (o: ZodOpenApiOperationObject) => o;

export function openApiDocument() {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'WeChat Pay checkout API',
      version: '1.0.0',
      description:
        "Money is integer fen. Every answer carries a `Request-ID`. Shopper routes take `Authorization: Bearer <token>` from /api/auth/login; admin routes the operator's `ADMIN_TOKEN`. JSON bodies must be `application/json`.",
    },
    components: {
      securitySchemes: {
        shopper: { type: 'http', scheme: 'bearer', description: 'The token from POST /api/auth/login' },
        admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
      },
    },
    paths: {
      '/api/health': {
        get: op({
          summary: 'Liveness, and that the store answers',
          tags: ['system'],
          responses: { 200: { description: 'Up', content: json(healthResponseSchema) }, ...errors({ 503: COMMON[503] }) },
        }),
      },
      '/api/openapi.json': {
        get: op({
          summary: 'This document',
          tags: ['system'],
          responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.looseObject({}) } } } },
        }),
      },
      '/api/auth/login': {
        post: op({
          summary: 'Log in with a wx.login code (code2Session)',
          tags: ['shopper'],
          requestBody: { content: json(loginBody) },
          responses: {
            200: { description: 'A session token', content: json(loginResponseSchema) },
            ...errors({
              400: 'VALIDATION_FAILED',
              401: 'WECHAT_CODE_INVALID: the code was used or expired: call wx.login again',
              ...LIMITED,
              ...COMMON,
              502: 'WECHAT_UNREACHABLE',
              503: 'WECHAT_BUSY (WeChat asks to try again) or STORE_UNAVAILABLE',
            }),
          },
        }),
      },
      '/api/auth/logout': {
        post: op({
          summary: 'End this session',
          tags: ['shopper'],
          security: [{ shopper: [] }],
          responses: { 204: { description: 'Logged out' }, ...errors({ ...AUTHED, ...COMMON }) },
        }),
      },
      '/api/auth/logout-all': {
        post: op({
          summary: 'End every session of this shopper (log out everywhere)',
          tags: ['shopper'],
          security: [{ shopper: [] }],
          responses: { 204: { description: 'Every session ended' }, ...errors({ ...AUTHED, ...COMMON }) },
        }),
      },
      '/api/products': {
        get: op({
          summary: 'The catalog; prices in fen',
          tags: ['shopper'],
          responses: { 200: { description: 'Products', content: json(productsResponseSchema) }, ...errors({ 503: COMMON[503] }) },
        }),
      },
      '/api/orders': {
        post: op({
          summary: 'Place an order: the server prices the cart, saves it and returns the signed wx.requestPayment fields',
          tags: ['shopper'],
          security: [{ shopper: [] }],
          requestParams: keyHeader,
          requestBody: { content: json(createOrderBody) },
          responses: {
            201: { description: 'Created, with the payment fields', content: json(checkoutResponseSchema) },
            200: {
              description: 'A replay of the same Idempotency-Key and body (Idempotent-Replayed: true)',
              content: json(checkoutResponseSchema),
            },
            ...errors({
              400: 'VALIDATION_FAILED (with `field`) or UNKNOWN_SKU',
              ...AUTHED,
              409: 'IDEMPOTENCY_KEY_REUSED: the key was used with another cart',
              ...LIMITED,
              502: 'WECHATPAY_UNREACHABLE or WECHATPAY_REJECTED: the order is saved (`orderId`): retry its payment',
              ...COMMON,
            }),
          },
        }),
        get: op({
          summary: "The shopper's orders, newest first",
          tags: ['shopper'],
          security: [{ shopper: [] }],
          responses: {
            200: { description: 'Orders', content: json(ordersResponseSchema) },
            ...errors({ ...AUTHED, ...LIMITED, ...COMMON }),
          },
        }),
      },
      '/api/orders/{id}': {
        get: op({
          summary: 'One order; a pending one is checked with WeChat Pay (throttled) so the result page confirms promptly',
          tags: ['shopper'],
          security: [{ shopper: [] }],
          requestParams: idPath,
          responses: {
            200: { description: 'The order', content: json(orderResponseSchema) },
            ...errors({
              400: 'VALIDATION_FAILED: not an order id',
              ...AUTHED,
              404: "NOT_FOUND (also for another shopper's order)",
              ...LIMITED,
              ...COMMON,
            }),
          },
        }),
      },
      '/api/orders/{id}/subscriptions': {
        post: op({
          summary: 'What the shopper accepted in the subscription dialog after the pay tap: one message per accepted kind',
          tags: ['orders'],
          security: [{ shopper: [] }],
          requestParams: idPath,
          requestBody: { content: json(subscriptionsBody) },
          responses: {
            200: {
              description: "The order's send credits (a kind accepted twice for one order stays one credit)",
              content: json(
                z.object({
                  subscriptions: z.array(
                    z.object({
                      kind: z.enum(['paid', 'shipped', 'refunded']),
                      state: z.enum(['AVAILABLE', 'SENDING', 'SENT', 'GIVEN_UP']),
                    }),
                  ),
                }),
              ),
            },
            ...errors({ 400: 'VALIDATION_FAILED', ...AUTHED, 404: 'NOT_FOUND: no such order of this shopper', ...LIMITED, ...COMMON }),
          },
        }),
      },
      '/api/subscribe-templates': {
        get: op({
          summary: 'The subscribe-message templates the mini program asks for after the pay tap (by kind; absent: not configured)',
          tags: ['orders'],
          responses: {
            200: {
              description: 'Template ids by kind',
              content: json(
                z.object({
                  templates: z.object({ paid: z.string().optional(), shipped: z.string().optional(), refunded: z.string().optional() }),
                }),
              ),
            },
            ...errors({ 500: 'INTERNAL' }),
          },
        }),
      },
      '/api/orders/{id}/payment': {
        post: op({
          summary: 'Retry: fresh wx.requestPayment fields for the same order',
          tags: ['shopper'],
          security: [{ shopper: [] }],
          requestParams: idPath,
          responses: {
            200: { description: 'The order and fresh payment fields', content: json(checkoutResponseSchema) },
            ...errors({
              400: 'VALIDATION_FAILED',
              ...AUTHED,
              404: 'NOT_FOUND',
              409: 'ORDER_ALREADY_PAID or ORDER_CLOSED',
              ...LIMITED,
              502: 'WECHATPAY_UNREACHABLE or WECHATPAY_REJECTED',
              503: 'WECHATPAY_BUSY: another request is working on the order',
              500: 'INTERNAL',
              415: COMMON[415],
            }),
          },
        }),
      },
      '/api/orders/{id}/receipt': {
        post: op({
          summary:
            "Back from WeChat's confirm-receipt component: the server asks WeChat (get_order) and moves the shipment forward; the client's word is never taken",
          tags: ['shopper'],
          security: [{ shopper: [] }],
          requestParams: idPath,
          responses: {
            200: { description: 'The order as WeChat now has it', content: json(orderResponseSchema) },
            ...errors({
              400: 'VALIDATION_FAILED',
              ...AUTHED,
              404: 'NOT_FOUND',
              409: 'ORDER_NOT_PAID: not shipped yet',
              ...LIMITED,
              502: 'WECHAT_UNREACHABLE',
              ...COMMON,
            }),
          },
        }),
      },
      [MESSAGES_PATH]: {
        get: op({
          summary: "WeChat's URL check for the message-push configuration: echoes echostr when the signature holds",
          tags: ['wechat'],
          requestParams: { query: z.object({ signature: z.string(), timestamp: z.string(), nonce: z.string(), echostr: z.string() }) },
          responses: {
            200: { description: 'echostr', content: { 'text/plain': { schema: z.string() } } },
            401: { description: 'Signature does not match', content: { 'text/plain': { schema: z.string() } } },
            ...errors({ 404: 'NOT_FOUND: WECHAT_MESSAGE_TOKEN is not set' }),
          },
        }),
        post: op({
          summary: 'Message pushes (JSON, plaintext or safe mode): trade_manage_order_settlement, trade_manage_remind_shipping',
          tags: ['wechat'],
          requestBody: {
            content: {
              'application/json': {
                schema: z.looseObject({}).meta({ description: 'Safe mode: {ToUserName, Encrypt}; plaintext: the event itself' }),
              },
            },
          },
          responses: {
            200: { description: 'success', content: { 'text/plain': { schema: z.string() } } },
            400: { description: 'Not JSON', content: { 'text/plain': { schema: z.string() } } },
            401: {
              description: 'Signature, timestamp or appid refused: nothing changed',
              content: { 'text/plain': { schema: z.string() } },
            },
            ...errors({ 404: 'NOT_FOUND: WECHAT_MESSAGE_TOKEN is not set', 413: COMMON[413], 500: 'INTERNAL', 503: COMMON[503] }),
          },
        }),
      },
      [COMPLAINTS_PATH]: {
        post: op({
          summary: "WeChat Pay's complaint notifications (COMPLAINT.CREATE, COMPLAINT.STATE_CHANGE)",
          description:
            'Registered with WeChat Pay at start (PUT /api/admin/complaints/notification-url). Read as raw bytes and verified like payment notifications; 204 once the complaint is fetched and stored (or the notification id was already taken).',
          tags: ['wechat'],
          requestBody: {
            content: {
              'application/json': { schema: z.looseObject({}).meta({ description: 'The v3 envelope (original_type complaint)' }) },
            },
          },
          responses: {
            204: { description: 'Stored' },
            400: { description: 'Malformed, or not a complaint event', content: json(wechatAnswer) },
            401: { description: 'Not signed by WeChat Pay (refused, counted, sampled)', content: json(wechatAnswer) },
            404: { description: 'Complaints are not configured', content: json(wechatAnswer) },
            500: { description: 'Not stored; WeChat retries', content: json(wechatAnswer) },
          },
        }),
      },
      [NOTIFY_PATH]: {
        post: op({
          summary: "WeChat Pay's payment and refund notifications (its notify_url)",
          description:
            'Read as raw bytes: API v3 JSON signed in the Wechatpay-* headers, or API v2 XML signed in its body. 204 (v2: 200 with SUCCESS XML) only once the outcome is verified and stored; any other status makes WeChat deliver again on its schedule.',
          tags: ['wechat'],
          requestBody: {
            content: {
              'application/json': {
                schema: z
                  .looseObject({})
                  .meta({ description: 'The v3 envelope: id, create_time, event_type, resource (AEAD_AES_256_GCM)' }),
              },
              'text/xml': { schema: z.string() },
            },
          },
          responses: {
            204: { description: 'Verified and recorded with a settled outcome' },
            200: { description: 'API v2: <xml><return_code>SUCCESS</return_code></xml>', content: { 'text/xml': { schema: z.string() } } },
            400: {
              description: 'Malformed, or recorded with an outcome the shop cannot apply (WeChat retries)',
              content: json(wechatAnswer),
            },
            401: { description: 'Signature, serial or timestamp refused', content: json(wechatAnswer) },
            404: { description: 'UNKNOWN_ORDER or UNKNOWN_REFUND (WeChat retries: the order may appear)', content: json(wechatAnswer) },
            413: { description: 'Body over 64 KB', content: json(wechatAnswer) },
            500: { description: 'Not stored; WeChat retries', content: json(wechatAnswer) },
          },
        }),
      },
      '/api/admin/stats': {
        get: op({
          summary: "This process's counters",
          tags: ['admin'],
          security: [{ admin: [] }],
          responses: {
            200: {
              description: 'pid, store commits, refused notifications by reason',
              content: json(z.looseObject({ pid: z.number().int() }).meta({ id: 'AdminStats' })),
            },
            ...errors({ ...ADMIN, 500: 'INTERNAL' }),
          },
        }),
      },
      '/api/admin/orders': {
        get: op({
          summary: 'Orders, newest first, with filters',
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: { query: adminOrdersQuery },
          responses: {
            200: { description: 'A page of orders', content: json(adminOrderPageSchema) },
            ...errors({ 400: 'VALIDATION_FAILED', ...ADMIN, ...COMMON }),
          },
        }),
      },
      '/api/admin/orders/{id}': {
        get: op({
          summary: 'One order with its attempts, payments, notifications and refunds',
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: idPath,
          responses: {
            200: { description: 'The order and its story', content: json(adminOrderSchema) },
            ...errors({ 400: 'VALIDATION_FAILED', ...ADMIN, ...COMMON }),
          },
        }),
      },
      '/api/admin/orders/{id}/refunds': {
        post: op({
          summary: 'Refund an amount of a paid order (or a payment that must go back)',
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: { ...idPath, ...keyHeader },
          requestBody: { content: json(refundBody) },
          responses: {
            201: {
              description: 'Requested (usually PROCESSING; the outcome follows by notification or query)',
              content: json(adminRefundSchema),
            },
            200: { description: 'A replay of the same Idempotency-Key', content: json(adminRefundSchema) },
            ...errors({
              400: 'VALIDATION_FAILED: the amount is more than what is left to refund, or not whole fen',
              ...ADMIN,
              409: 'ORDER_NOT_PAID or IDEMPOTENCY_KEY_REUSED',
              502: 'WECHATPAY_UNREACHABLE or WECHATPAY_REJECTED',
              ...COMMON,
            }),
          },
        }),
      },
      '/api/admin/orders/{id}/shipments': {
        post: op({
          summary: "Ship a paid order (or make the one change WeChat allows): recorded, then uploaded to WeChat's shipping-info management",
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: idPath,
          requestBody: { content: json(shipmentBody) },
          responses: {
            201: {
              description:
                'Recorded; `upload` says whether WeChat took it (ACCEPTED), will be sent again (PENDING) or refused it (REFUSED, with the fix)',
              content: json(z.object({ shipment: shipmentSchema })),
            },
            200: { description: 'The shipment changed (its one change)', content: json(z.object({ shipment: shipmentSchema })) },
            ...errors({
              400: 'VALIDATION_FAILED naming the field (carrier not in the delivery list, missing tracking number, SF without SHOP_CONTACT_PHONE)',
              ...ADMIN,
              409: 'ORDER_NOT_PAID, ORDER_REFUNDED, RESHIP_USED, SHIPMENT_LOCKED (receipt confirmed) or SHIPMENT_CHANGED',
              ...COMMON,
            }),
          },
        }),
      },
      '/api/admin/books': {
        get: op({
          summary: "The daily books: days reconciled against WeChat Pay's bill, newest first (default: the last 30 days)",
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: { query: booksQuery },
          responses: {
            200: { description: 'The days in the range that were reconciled', content: json(bookDaysSchema) },
            ...errors({ 400: 'VALIDATION_FAILED: a malformed date, from after to, or more than 92 days', ...ADMIN, ...COMMON }),
          },
        }),
      },
      '/api/admin/books/{date}': {
        get: op({
          summary: "One day's books: totals from both sides and each discrepancy",
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: datePath,
          responses: {
            200: { description: "The day's stored result", content: json(bookDaySchema) },
            ...errors({
              400: 'VALIDATION_FAILED',
              ...ADMIN,
              404: 'NOT_FOUND: the day was never reconciled (or no ADMIN_TOKEN)',
              ...COMMON,
            }),
          },
        }),
        post: op({
          summary: "Reconcile a day now against WeChat Pay's bill (replaces the day's stored result)",
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: datePath,
          responses: {
            201: { description: "The day's result, stored", content: json(bookDaySchema) },
            ...errors({
              400: 'VALIDATION_FAILED: a malformed date, or a day that has not begun',
              ...ADMIN,
              409: "BILL_NOT_READY: WeChat Pay is still writing the day's bill (from about 10:00 the next day, Beijing time)",
              502: 'WECHATPAY_UNREACHABLE: the bill could not be fetched or failed its integrity check; nothing was stored',
              ...COMMON,
            }),
          },
        }),
      },
      '/api/admin/complaints': {
        get: op({
          summary: 'Complaints from both systems: open ones first, by deadline (least time left first)',
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: { query: complaintsQuery },
          responses: {
            200: { description: 'The inbox', content: json(z.object({ complaints: z.array(complaintSchema) })) },
            ...errors({ 400: 'VALIDATION_FAILED', ...ADMIN, ...COMMON }),
          },
        }),
      },
      '/api/admin/complaints/notification-url': {
        put: op({
          summary: "Register this server's complaint notification URL with WeChat Pay (done at start; again here)",
          tags: ['admin'],
          security: [{ admin: [] }],
          responses: {
            200: { description: 'The URL WeChat Pay now has', content: json(z.object({ url: z.string().nullable() })) },
            ...errors({ ...ADMIN, 502: 'WECHATPAY_UNREACHABLE', 500: 'INTERNAL' }),
          },
        }),
      },
      '/api/admin/complaints/{id}': {
        get: op({
          summary: 'One complaint with its history',
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: complaintPath,
          responses: {
            200: { description: 'The complaint', content: json(complaintAnswer) },
            ...errors({ 400: 'VALIDATION_FAILED', ...ADMIN, ...COMMON }),
          },
        }),
      },
      '/api/admin/complaints/{id}/replies': {
        post: op({
          summary: 'Reply to the shopper (the same text again within ten minutes is the same reply)',
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: complaintPath,
          requestBody: { content: json(complaintReply) },
          responses: {
            201: { description: 'Sent to WeChat; the complaint as WeChat now reports it', content: json(complaintAnswer) },
            ...errors({
              400: 'VALIDATION_FAILED',
              ...ADMIN,
              409: "COMPLAINT_RESOLVED, or COMPLAINT_REFUSED with WeChat's reason",
              502: 'WECHATPAY_UNREACHABLE: nothing was sent; try again',
              ...COMMON,
            }),
          },
        }),
      },
      '/api/admin/complaints/{id}/refund-decision': {
        post: op({
          summary:
            'Approve the refund (our own refund of `amount`, else what was asked, else the order total; keyed by the complaint) or reject it with a reason',
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: complaintPath,
          requestBody: { content: json(refundDecisionBody) },
          responses: {
            200: { description: 'Decided (the same decision again answers the same)', content: json(complaintAnswer) },
            ...errors({
              400: 'VALIDATION_FAILED: an amount beyond what is left, a rejection without a reason',
              ...ADMIN,
              409: 'COMPLAINT_DECIDED (the other decision was taken), COMPLAINT_RESOLVED, COMPLAINT_REFUSED, ORDER_NOT_PAID',
              502: 'WECHATPAY_UNREACHABLE',
              ...COMMON,
            }),
          },
        }),
      },
      '/api/admin/complaints/{id}/complete': {
        post: op({
          summary: 'Mark the complaint handled at WeChat',
          tags: ['admin'],
          security: [{ admin: [] }],
          requestParams: complaintPath,
          responses: {
            200: { description: 'Resolved (already resolved: the same answer)', content: json(complaintAnswer) },
            ...errors({ 400: 'VALIDATION_FAILED', ...ADMIN, 409: 'COMPLAINT_REFUSED', 502: 'WECHATPAY_UNREACHABLE', ...COMMON }),
          },
        }),
      },
      '/api/admin/carriers': {
        get: op({
          summary: "WeChat's delivery list (cached for an hour)",
          tags: ['admin'],
          security: [{ admin: [] }],
          responses: {
            200: {
              description: 'Carriers',
              content: json(z.object({ carriers: z.array(z.object({ id: z.string(), name: z.string() })) })),
            },
            ...errors({ ...ADMIN, 502: 'WECHAT_UNREACHABLE', 500: 'INTERNAL' }),
          },
        }),
      },
      '/metrics': {
        get: op({
          summary: 'Prometheus metrics',
          tags: ['admin'],
          security: [{ admin: [] }],
          responses: {
            200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
            ...errors(ADMIN),
          },
        }),
      },
    },
  });
}

/** The document, and Swagger UI for it with its assets from node_modules (no CDN). */
export function openApiRoutes(): Router {
  const r = express.Router();
  const doc = openApiDocument();
  r.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  const ui = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  r.get('/docs', (_req, res) => {
    // Its own CSP: Swagger UI's scripts and styles from this origin, nothing else.
    res.set(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    );
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WeChat Pay checkout API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>`);
  });
  r.get('/docs/init.js', (_req, res) => {
    res.type('js').send("window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n");
  });
  r.use('/docs/assets', express.static(ui, { index: false, maxAge: '1d' }));
  return r;
}
