// Starts the real system as its own process, for tests that run in a browser-like environment or
// drive a real browser, or that kill the server. With WeChat credentials in the environment (a
// sandbox.env loaded by the test) it starts the server alone; otherwise the sandbox and the server,
// as `npm start` does. Prints one READY line.
import path from 'node:path';
import { launchSandboxed } from '../../scripts/launch';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server';

async function main() {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: process.env.PORT ?? '0', SANDBOX_PORT: process.env.SANDBOX_PORT ?? '0' };
  const logger = createLogger(env.LOG_LEVEL ?? 'info');
  const clientDir = process.env.CLIENT_DIR ? path.resolve(process.env.CLIENT_DIR) : undefined;
  let ready: { api: string; sandbox: string | null; adminToken: string | null };
  let close: () => Promise<void>;
  if (env.WECHAT_APPID) {
    const config = loadConfig(env);
    const server = await startServer(config, { logger, clientDir });
    ready = { api: server.apiUrl, sandbox: config.sandboxUrl, adminToken: config.adminToken };
    close = () => server.close();
  } else {
    const launched = await launchSandboxed(env, { logger, clientDir });
    ready = { api: launched.server.apiUrl, sandbox: launched.sandbox.url, adminToken: launched.config.adminToken };
    close = () => launched.close();
  }
  console.log(`READY ${JSON.stringify(ready)}`);
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

void main();
