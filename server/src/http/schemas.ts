// The API contract: request schemas and response types. The client imports the types with
// `import type` only, so the two cannot drift and no server code reaches the bundle.
import { z } from 'zod';
import type { Product } from '../domain/catalog';
import type { OrderView } from '../domain/order';
import type { PaymentSheetParams } from '../domain/ports/payment-provider';

/** The five wx.requestPayment fields, signed by the server; the client passes them through untouched. */
export type RequestPaymentParams = PaymentSheetParams;

export const loginBody = z.strictObject({
  code: z.string().min(1).max(128),
});

export const createOrderBody = z.strictObject({
  items: z
    .array(
      z.strictObject({
        sku: z.string().min(1).max(64),
        quantity: z.number().int('must be a whole number').min(1, 'must be at least 1').max(999, 'must be at most 999'),
      }),
    )
    .min(1, 'the cart is empty')
    .max(20, 'at most 20 lines per order'),
});

export const idempotencyKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const orderIdParam = z.string().regex(/^ord_[0-9a-f]{32}$/, 'not an order id');

export type LoginRequest = z.infer<typeof loginBody>;
export type CreateOrderRequest = z.infer<typeof createOrderBody>;

// ---- Responses: the same schemas document the API (GET /api/openapi.json) and type the client. ----

const fen = z.number().int().min(0).meta({ description: 'Integer fen (1/100 yuan)' });
const isoTime = z.iso.datetime({ offset: true }).meta({ description: 'RFC 3339 time' });

export const productSchema = z
  .object({
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    price: fen,
    currency: z.literal('CNY'),
    maxQuantity: z.number().int().min(1),
  })
  .meta({ id: 'Product' });

export const refundViewSchema = z
  .object({
    id: z.string(),
    amount: fen,
    status: z.enum(['PROCESSING', 'SUCCESS', 'CLOSED', 'ABNORMAL']),
    createdAt: isoTime,
    settledAt: isoTime.nullable(),
  })
  .meta({ id: 'RefundView' });

export const shipmentViewSchema = z
  .object({
    status: z.enum(['SHIPPED', 'RECEIVED', 'COMPLETED']).meta({ description: '已发货, 已收货 (receipt confirmed), 已完成 (settled)' }),
    merchantId: z
      .string()
      .meta({ description: "wx.openBusinessView's extraData.merchant_id (with the order's outTradeNo as merchant_trade_no)" }),
    logisticsType: z.enum(['express', 'same-city', 'virtual', 'pickup']),
    packages: z.array(z.object({ carrier: z.string().nullable(), carrierName: z.string().nullable(), trackingNo: z.string().nullable() })),
    shippedAt: isoTime,
  })
  .meta({ id: 'ShipmentView' });

export const orderViewSchema = z
  .object({
    id: z.string().regex(/^ord_[0-9a-f]{32}$/),
    status: z.enum(['PENDING', 'PAID', 'CLOSED']),
    lines: z.array(z.object({ sku: z.string(), name: z.string(), unitPrice: fen, quantity: z.number().int().min(1), lineTotal: fen })),
    total: fen,
    currency: z.literal('CNY'),
    description: z.string(),
    outTradeNo: z.string().meta({ description: "The current payment attempt's out_trade_no" }),
    transactionId: z.string().nullable(),
    payDeadline: isoTime,
    paidAt: isoTime.nullable(),
    closedAt: isoTime.nullable(),
    refundDue: z
      .boolean()
      .meta({ description: 'A payment that must go back (a second payment, or one after the order closed) is not yet refunded' }),
    refundedTotal: fen,
    refunds: z.array(refundViewSchema),
    shipment: shipmentViewSchema.nullable().meta({ description: 'null while a paid order is to ship (待发货)' }),
    complaint: z.literal('OPEN').optional().meta({
      description: 'Present on GET /api/orders/{id} while the shopper has a complaint open at WeChat about the order (投诉处理中)',
    }),
    createdAt: isoTime,
  })
  .meta({ id: 'OrderView' });

export const paymentSheetSchema = z
  .object({
    timeStamp: z.string(),
    nonceStr: z.string(),
    package: z.string(),
    signType: z.enum(['RSA', 'MD5', 'HMAC-SHA256']),
    paySign: z.string(),
  })
  .meta({
    id: 'RequestPaymentParams',
    description: 'The five wx.requestPayment fields, signed by the server: pass them through untouched',
  });

export const loginResponseSchema = z
  .object({ token: z.string(), expiresAt: isoTime, user: z.object({ id: z.string() }) })
  .meta({ id: 'LoginResponse' });
export const productsResponseSchema = z.object({ products: z.array(productSchema) }).meta({ id: 'ProductsResponse' });
export const checkoutResponseSchema = z.object({ order: orderViewSchema, payment: paymentSheetSchema }).meta({ id: 'CheckoutResponse' });
export const orderResponseSchema = z.object({ order: orderViewSchema }).meta({ id: 'OrderResponse' });
export const ordersResponseSchema = z.object({ orders: z.array(orderViewSchema) }).meta({ id: 'OrdersResponse' });
export const healthResponseSchema = z
  .object({ status: z.literal('ok'), store: z.enum(['sqlite', 'mongodb']), time: isoTime })
  .meta({ id: 'HealthResponse' });
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z
        .string()
        .meta({ description: 'Stable, machine-readable: VALIDATION_FAILED, UNAUTHENTICATED, NOT_FOUND, ORDER_CLOSED, RATE_LIMITED, …' }),
      message: z.string(),
      field: z.string().optional().meta({ description: 'The refused field, for VALIDATION_FAILED' }),
      orderId: z.string().optional().meta({ description: 'When the order was saved but could not be offered for payment: retry it' }),
    }),
  })
  .meta({ id: 'Error' });

export type LoginResponse = z.infer<typeof loginResponseSchema>;
export type ProductsResponse = z.infer<typeof productsResponseSchema>;
export type CheckoutResponse = { order: OrderView; payment: RequestPaymentParams };
export type OrderResponse = { order: OrderView };
export type OrdersResponse = { orders: OrderView[] };
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
export type { OrderView, Product };

// The domain's types and the documented schemas cannot drift apart: each must fit the other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const fits = <T extends true>(..._: T[]) => undefined;
fits<Same<OrderView, z.infer<typeof orderViewSchema>>>();
fits<Same<Product, z.infer<typeof productSchema>>>();
fits<Same<RequestPaymentParams, z.infer<typeof paymentSheetSchema>>>();
