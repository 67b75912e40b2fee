// Serves the H5 build of the client at / (Taro's H5 router uses hash routes, so every other GET
// outside /api is the single-page app), with the sandbox's address injected into index.html, under
// a Content-Security-Policy that lets only the page's own scripts run.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type Response, type Router } from 'express';
import expressStaticGzip from 'express-static-gzip';
import helmet from 'helmet';

const BUILDING_PAGE =
  '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">' +
  '<meta name="viewport" content="width=device-width,initial-scale=1"><title>正在构建</title></head>' +
  '<body style="font-family:sans-serif;text-align:center;padding-top:30vh;color:#555">正在构建前端页面，完成后自动刷新…</body></html>';

const NONCE = '__CSP_NONCE__';
const FAVICON = fs.readFileSync(path.join(__dirname, 'favicon.ico'));

/**
 * index.html with the runtime settings the browser build needs (the sandbox's address). Every inline
 * script the build wrote (Taro's rem script sets the root font size every size derives from) and the
 * injected one carry the response's nonce: the CSP lets them run and nothing else inline.
 */
export function injectClientConfig(html: string, config: { sandboxBase: string | null }): string {
  const script = `<script nonce="${NONCE}">window.__CHECKOUT_CONFIG__=${JSON.stringify(config).replace(/</g, '\\u003c')}</script>`;
  return html.replace(/<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)/g, `<script nonce="${NONCE}"`).replace('</head>', `${script}</head>`);
}

export function serveH5Client(dir: string, sandboxBase: string | null): Router {
  const router = express.Router();
  const index = path.join(dir, 'index.html');
  let cached: { mtimeMs: number; html: string } | null = null;
  const nonceOf = (res: Response) => res.locals.cspNonce as string;
  const csp = helmet.contentSecurityPolicy({
    useDefaults: true,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", (_req, res) => `'nonce-${nonceOf(res as Response)}'`],
      // React sets style attributes; stylesheets come from the build.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      // The sandbox's payment sheet stands in for the WeChat app on another port of this machine.
      connectSrc: ["'self'", ...(sandboxBase ? [new URL(sandboxBase).origin] : [])],
      frameAncestors: ["'none'"],
      objectSrc: ["'none'"],
      upgradeInsecureRequests: null,
    },
  });
  router.get('/favicon.ico', (_req, res) => {
    res.type('image/x-icon').set('Cache-Control', 'public, max-age=86400').send(FAVICON);
  });
  // Pre-compressed at build time (config/plugins/precompress.js): brotli or gzip as the browser
  // accepts, sent as they are. Hashed assets never change under their name: cached for a year.
  router.use(
    expressStaticGzip(dir, {
      enableBrotli: true,
      orderPreference: ['br', 'gz'],
      index: false,
      serveStatic: {
        setHeaders(res, file) {
          res.setHeader(
            'Cache-Control',
            /[.-][0-9a-f]{8,}\.(js|css)(\.br|\.gz)?$/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      },
    }),
  );
  router.get(/^(?!\/api\/).*/, (req, res, next) => {
    res.locals.cspNonce = crypto.randomBytes(16).toString('base64');
    csp(req, res, (err?: unknown) => {
      if (err) return next(err);
      let mtimeMs: number;
      try {
        mtimeMs = fs.statSync(index).mtimeMs;
      } catch {
        res.status(503).set('Retry-After', '3').type('html').send(BUILDING_PAGE);
        return;
      }
      // Rebuilt while running: read it again, otherwise serve what was read.
      if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, html: injectClientConfig(fs.readFileSync(index, 'utf8'), { sandboxBase }) };
      res
        .type('html')
        .set('Cache-Control', 'no-cache')
        .send(cached.html.replaceAll(NONCE, nonceOf(res)));
    });
  });
  return router;
}
