// /api/products: the catalog, prices in integer fen.
import express, { type Router } from 'express';
import { listProducts } from '../domain/catalog';
import type { PaymentDeps } from '../domain/deps';
import type { ProductsResponse } from './schemas';

export function productRoutes(deps: Pick<PaymentDeps, 'store'>): Router {
  const r = express.Router();
  r.get('/', async (_req, res) => {
    const body: ProductsResponse = { products: await listProducts(deps.store) };
    res.json(body);
  });
  return r;
}
