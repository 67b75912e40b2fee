// Serves the H5 build of the client at / (Taro's H5 router uses hash routes, so every other GET
// outside /api is the single-page app), with the sandbox's address injected into index.html.
import fs from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';

const BUILDING_PAGE =
  '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">' +
  '<meta name="viewport" content="width=device-width,initial-scale=1"><title>正在构建</title></head>' +
  '<body style="font-family:sans-serif;text-align:center;padding-top:30vh;color:#555">正在构建前端页面，完成后自动刷新…</body></html>';

/** index.html with the runtime settings the browser build needs (the sandbox's address). */
export function injectClientConfig(html: string, config: { sandboxBase: string | null }): string {
  const script = `<script>window.__CHECKOUT_CONFIG__=${JSON.stringify(config).replace(/</g, '\\u003c')}</script>`;
  return html.replace('</head>', `${script}</head>`);
}

export function serveH5Client(dir: string, sandboxBase: string | null): Router {
  const router = express.Router();
  const index = path.join(dir, 'index.html');
  let cached: { mtimeMs: number; html: string } | null = null;
  router.use(express.static(dir, { index: false, maxAge: 0 }));
  router.get(/^(?!\/api\/).*/, (_req, res) => {
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(index).mtimeMs;
    } catch {
      res.status(503).set('Retry-After', '3').type('html').send(BUILDING_PAGE);
      return;
    }
    // Rebuilt while running: read it again, otherwise serve what was read.
    if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, html: injectClientConfig(fs.readFileSync(index, 'utf8'), { sandboxBase }) };
    res.type('html').set('Cache-Control', 'no-cache').send(cached.html);
  });
  return router;
}
