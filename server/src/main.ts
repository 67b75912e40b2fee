// `npm run serve`: the production entry point. Reads the configuration (WeChat's credentials are
// required), starts the API and reconciliation, prints where. It never starts a sandbox; `npm start`
// is the launcher that does (scripts/start.ts).
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, wantsPrettyLogs } from './logger';
import { startServer, type Server } from './server';

export interface Started {
  config: Config;
  server: Server;
}

/** Loads the configuration, starts the server and prints the banner; exits non-zero when it cannot. */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Cannot start: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  for (const w of config.warnings) console.error(w);
  const logger = createLogger(config.logLevel, undefined, { pretty: wantsPrettyLogs(env) });
  let server: Server;
  try {
    server = await startServer(config, { logger, clientDir: config.serveClient ? path.resolve('dist/h5') : undefined });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`Cannot start: port ${config.port} is already in use. Stop what uses it, or set PORT to a free port.`);
      process.exit(1);
    }
    console.error(`Cannot start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  console.log(
    [
      `API        ${server.apiUrl}/api  (health: ${server.apiUrl}/api/health; docs: ${server.apiUrl}/api/docs)`,
      ...(config.adminToken
        ? [
            `Ops        ${server.apiUrl}/admin  (metrics: ${server.apiUrl}/metrics; both with the admin token; check the setup: npm run doctor)`,
          ]
        : []),
      `Storage    ${server.store.kind}${server.store.kind === 'sqlite' ? ` (${path.join(config.dataDir, 'checkout.sqlite')})` : ''}`,
      `WeChat     ${config.sandboxUrl ? `the local sandbox (${config.sandboxUrl})` : `WeChat Pay (${config.wechat.wechatPayApiBase})`}, API ${config.wechatPay.version}${config.wechatPay.version === 'v2' ? ` (${config.wechatPay.signType})` : ''}`,
    ].join('\n'),
  );
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  return { config, server };
}

if (require.main === module) void serve();
