// Starts the sandbox, then the server pointed at it with the credentials the sandbox wrote —
// exactly as the server would start against WeChat. Used by `npm start` and by the tests, so
// every test exercises the live wiring.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../server/src/clock';
import { loadConfig, type Config } from '../server/src/config';
import { dataKeyFile } from '../server/src/local-env';
import { startServer, type Server, type ServerOptions } from '../server/src/server';
import type { SandboxControls } from '../sandbox/app';
import { loadSandboxConfig } from '../sandbox/config';
import { startSandbox, type RunningSandbox } from '../sandbox/server';

/** A free TCP port on loopback, for a server whose address must be known before it starts. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export const adminTokenFile = (dataDir: string) => path.join(dataDir, 'admin_token');

/** A secret for a local run: read from its file in DATA_DIR, created there (0600) on first use. */
function ensureLocalSecret(file: string, make: () => string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = make();
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** The operator's token for a local run (DATA_DIR/admin_token). */
export const ensureAdminToken = (dataDir: string) =>
  ensureLocalSecret(adminTokenFile(dataDir), () => crypto.randomBytes(32).toString('base64url'));
/** The key that encrypts secrets at rest for a local run (DATA_DIR/data_key). */
export const ensureDataKey = (dataDir: string) => ensureLocalSecret(dataKeyFile(dataDir), () => crypto.randomBytes(32).toString('base64'));

export interface SandboxedOptions {
  clock?: Clock;
  controls?: Partial<SandboxControls>;
  /** An extra platform certificate the sandbox signs with and the server trusts. */
  certificate?: { pem: string; privateKeyPem: string };
  /** Variables set over the sandbox's (tests: a notify URL as production would have it). */
  serverEnv?: Record<string, string>;
}

/**
 * Starts the sandbox and returns the server's environment: `env` with the sandbox's credentials
 * over it. The API port is fixed first (a free one when PORT is 0), since the notify URL names it.
 */
export async function startSandboxFor(
  env: NodeJS.ProcessEnv,
  o: SandboxedOptions = {},
): Promise<{ sandbox: RunningSandbox; serverEnv: NodeJS.ProcessEnv }> {
  const sc = loadSandboxConfig(env);
  for (const w of sc.warnings) console.error(w);
  const apiPort = sc.apiPort === 0 ? await freePort(sc.host) : sc.apiPort;
  const sandbox = await startSandbox({
    dataDir: sc.dataDir,
    host: sc.host,
    port: sc.port,
    tlsPort: sc.tlsPort,
    apiUrl: `http://${sc.host.includes(':') ? `[${sc.host}]` : sc.host}:${apiPort}`,
    now: o.clock ? () => o.clock!.now() : undefined,
    controls: { timeScale: sc.timeScale, ...o.controls },
    certificate: o.certificate,
    signing: sc.signing,
  });
  const adminToken = env.ADMIN_TOKEN || ensureAdminToken(sc.dataDir);
  const dataKey = env.DATA_ENCRYPTION_KEY || ensureDataKey(sc.dataDir);
  return {
    sandbox,
    serverEnv: { ...env, ...sandbox.env, PORT: String(apiPort), ADMIN_TOKEN: adminToken, DATA_ENCRYPTION_KEY: dataKey, ...o.serverEnv },
  };
}

export interface Launched {
  config: Config;
  server: Server;
  sandbox: RunningSandbox;
  close(): Promise<void>;
}

/** The sandbox and the server, in this process. */
export async function launchSandboxed(
  env: NodeJS.ProcessEnv,
  o: SandboxedOptions & Partial<ServerOptions> & { logger: Logger },
): Promise<Launched> {
  const { sandbox, serverEnv } = await startSandboxFor(env, o);
  try {
    const config = loadConfig(serverEnv);
    const server = await startServer(config, {
      logger: o.logger,
      clock: o.clock,
      store: o.store,
      clientDir: o.clientDir,
      limits: o.limits,
    });
    return {
      config,
      server,
      sandbox,
      async close() {
        await server.close();
        await sandbox.close();
      },
    };
  } catch (err) {
    await sandbox.close();
    throw err;
  }
}
