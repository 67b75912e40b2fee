import type { CheckoutResponse, OrderResponse, OrdersResponse, OrderView, Product, ProductsResponse } from '../../server/src/http/schemas';
import { request } from './http';

export type { CheckoutResponse, OrderView, Product };

export async function listProducts(): Promise<Product[]> {
  return (await request<ProductsResponse>('GET', '/api/products', { auth: false })).products;
}

/** One request: the order and its wx.requestPayment fields. */
export function createOrder(items: { sku: string; quantity: number }[], idempotencyKey: string): Promise<CheckoutResponse> {
  return request<CheckoutResponse>('POST', '/api/orders', { body: { items }, headers: { 'Idempotency-Key': idempotencyKey } });
}

export async function getOrder(id: string): Promise<OrderView> {
  return (await request<OrderResponse>('GET', `/api/orders/${encodeURIComponent(id)}`)).order;
}

/** The shopper's orders, newest first. */
export async function listOrders(): Promise<OrderView[]> {
  return (await request<OrdersResponse>('GET', '/api/orders')).orders;
}

/** Fresh payment fields for the same order (the Retry button). */
export function retryPayment(id: string): Promise<CheckoutResponse> {
  return request<CheckoutResponse>('POST', `/api/orders/${encodeURIComponent(id)}/payment`);
}

/** Back from confirming receipt: the server asks WeChat where the order is (it never takes the client's word). */
export async function checkReceipt(id: string): Promise<OrderView> {
  return (await request<OrderResponse>('POST', `/api/orders/${encodeURIComponent(id)}/receipt`)).order;
}

export function newIdempotencyKey(): string {
  const rand = Math.random().toString(36).slice(2, 10) + Math.random().toString(36).slice(2, 10);
  return `co-${Date.now().toString(36)}-${rand}`;
}
