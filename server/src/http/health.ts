// /api/health: liveness, and that the store answers.
import express, { type Router } from 'express';
import { listProducts } from '../domain/browse';
import type { CatalogStore } from '../domain/ports/store';

export function healthRoutes(deps: { store: CatalogStore; storeKind: string; now: () => number }): Router {
  const r = express.Router();
  r.get('/', async (_req, res) => {
    await listProducts(deps.store);
    res.json({ status: 'ok', store: deps.storeKind, time: new Date(deps.now()).toISOString() });
  });
  return r;
}
