// /api/products: the catalog, prices in integer fen.
import express, { type Router } from 'express';
import { listProducts } from '../domain/browse';
import type { CatalogStore } from '../domain/ports/store';
import type { ProductsResponse } from './schemas';

export function productRoutes(deps: { store: CatalogStore }): Router {
  const r = express.Router();
  r.get('/', async (_req, res) => {
    const body: ProductsResponse = { products: await listProducts(deps.store) };
    res.json(body);
  });
  return r;
}
