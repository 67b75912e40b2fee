// Starts the real system (API + in-process sandbox, SQLite in DATA_DIR) as its own process, for
// tests that run in a browser-like environment or drive a real browser. Prints one READY line.
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startRuntime } from '../src/runtime';

async function main() {
  const config = loadConfig({ ...process.env, PORT: process.env.PORT ?? '0', SANDBOX_PORT: process.env.SANDBOX_PORT ?? '0' });
  const runtime = await startRuntime(config, {
    logger: createLogger(config.logLevel),
    clientDir: process.env.CLIENT_DIR ? path.resolve(process.env.CLIENT_DIR) : undefined,
  });
  console.log(`READY ${JSON.stringify({ api: runtime.apiUrl, sandbox: runtime.sandboxUrl })}`);
  const stop = async () => {
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

void main();
