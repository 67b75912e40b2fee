// /api/health: liveness, and that the store answers.
import express, { type Router } from 'express';
import { listProducts } from '../domain/catalog';
import type { PaymentDeps } from '../domain/deps';

export function healthRoutes(deps: Pick<PaymentDeps, 'store' | 'now'>): Router {
  const r = express.Router();
  r.get('/', async (_req, res) => {
    await listProducts(deps.store);
    res.json({ status: 'ok', store: deps.store.kind, time: new Date(deps.now()).toISOString() });
  });
  return r;
}
