// The API contract: request schemas and response types. The client imports the types with
// `import type` only, so the two cannot drift and no server code reaches the bundle.
import { z } from 'zod';
import type { Product } from '../domain/catalog';
import type { OrderView } from '../domain/order';
import type { PaymentSheetParams } from '../payments/port';

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

export interface LoginResponse {
  token: string;
  expiresAt: string;
  user: { id: string };
}
export interface ProductsResponse {
  products: Product[];
}
export interface CheckoutResponse {
  order: OrderView;
  payment: RequestPaymentParams;
}
export interface OrderResponse {
  order: OrderView;
}
export interface OrdersResponse {
  orders: OrderView[];
}
export interface ErrorResponse {
  /** `orderId` when the order was saved but could not be offered for payment: retry it. */
  error: { code: string; message: string; field?: string; orderId?: string };
}
export type { OrderView, Product };
