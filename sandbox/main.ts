// `npm run sandbox`: the sandbox on its own (the API then takes SANDBOX_URL). Keys come from
// DATA_DIR/sandbox/keys.json, shared with the API server.
import http from 'node:http';
import { createSandbox } from './app';
import { ensureSandboxKeys } from './keys';

const dataDir = process.env.DATA_DIR ?? './data';
const port = Number(process.env.SANDBOX_PORT ?? 3100);
const host = process.env.HOST ?? '127.0.0.1';
const timeScale = Number(process.env.SANDBOX_TIME_SCALE ?? 1);
if (!Number.isFinite(port) || !Number.isFinite(timeScale) || timeScale <= 0) {
  console.error('Cannot start the sandbox: SANDBOX_PORT must be a port and SANDBOX_TIME_SCALE a positive number');
  process.exit(2);
}

const sandbox = createSandbox({ keys: ensureSandboxKeys(dataDir), allowHttpNotifyUrl: true, controls: { timeScale } });
const server = http.createServer(sandbox.app).listen(port, host, () => {
  const addr = server.address() as { port: number };
  console.log(`READY sandbox http://${host}:${addr.port}`);
});
const stop = () => {
  sandbox.stop();
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
