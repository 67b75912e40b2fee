// `npm start`: reads config, starts the API (and, in sandbox mode, the sandbox), prints where.
import path from 'node:path';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startRuntime } from './runtime';
import { staleReason, taroBuild } from './client-build';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Cannot start: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const clientDir = path.resolve('dist/h5');
  const runtime = await startRuntime(config, { logger, clientDir: config.serveClient ? clientDir : undefined });
  const mode = config.mode.kind === 'sandbox' ? `sandbox (${runtime.sandboxUrl})` : 'live WeChat Pay';
  console.log(
    [
      `API        ${runtime.apiUrl}/api  (health: ${runtime.apiUrl}/api/health)`,
      runtime.sandbox ? `Sandbox    ${runtime.sandboxUrl}  (stands in for WeChat and the payment sheet)` : null,
      `Storage    ${runtime.store.kind}${runtime.store.kind === 'sqlite' ? ` (${path.join(config.dataDir, 'checkout.sqlite')})` : ''}`,
      `WeChat     ${mode}`,
    ]
      .filter(Boolean)
      .join('\n'),
  );
  if (config.serveClient) void prepareClient(runtime.apiUrl, clientDir);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** Serves the H5 build at /, building it first (in the background) when missing or stale. */
async function prepareClient(apiUrl: string, clientDir: string) {
  const root = process.cwd();
  const reason = staleReason(root, clientDir);
  if (!reason) {
    console.log(`Client     ${apiUrl}/  (the H5 build of client/)`);
    return;
  }
  console.log(`Client     building the H5 app (${reason}); ${apiUrl}/ shows a waiting page until it is ready…`);
  const started = Date.now();
  const ticker = setInterval(() => console.log(`Client     still building… ${Math.round((Date.now() - started) / 1000)} s`), 10_000);
  try {
    await taroBuild(root, 'h5');
    console.log(`Client     ${apiUrl}/  (built in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    console.error(`Client     the H5 build failed; the API keeps running.\n${(err as Error).message}`);
  } finally {
    clearInterval(ticker);
  }
}

main().catch((err) => {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    const port = (err as { port?: number }).port;
    console.error(`Cannot start: port ${port} is already in use. Stop what uses it, or set PORT / SANDBOX_PORT to free ports.`);
    process.exit(1);
  }
  console.error(`Cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
