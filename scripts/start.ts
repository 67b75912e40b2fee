// `npm start`: the whole checkout on one machine. Without WeChat credentials it starts the local
// sandbox, then the server with the sandbox's credentials (DATA_DIR/sandbox/sandbox.env); with them
// it starts the server alone, as `npm run serve` does. Then it serves the H5 build of the client,
// building it first when it is missing or stale.
import path from 'node:path';
import { ConfigError, REQUIRED_V2_VARIABLES, REQUIRED_V3_VARIABLES, REQUIRED_WECHAT_VARIABLES } from '../server/src/config';
import { serve } from '../server/src/main';
import { staleReason, taroBuild } from './h5-build';
import { adminTokenFile, startSandboxFor } from './launch';

async function main() {
  let env: NodeJS.ProcessEnv = process.env;
  if (!process.env.WECHAT_APPID) {
    if (process.env.NODE_ENV === 'production' && !/^(1|true|yes)$/i.test(process.env.UNSAFE_ALLOW_SANDBOX ?? '')) {
      const v2 = process.env.WECHATPAY_API_VERSION === 'v2';
      const missing = [...REQUIRED_WECHAT_VARIABLES, ...(v2 ? REQUIRED_V2_VARIABLES : REQUIRED_V3_VARIABLES)].filter(
        (k) => !process.env[k],
      );
      console.error(
        `Cannot start: NODE_ENV=production, and these WeChat variables are not set: ${missing.join(', ')}` +
          (v2 ? '.\n' : ' (and WECHATPAY_PUBLIC_KEY_FILE + WECHATPAY_PUBLIC_KEY_ID, or WECHATPAY_PLATFORM_CERT_FILES).\n') +
          'npm start will not fall back to the local sandbox in production: it lets anyone pay any order. Set the variables (README, Configuration), or run `npm run serve`.',
      );
      process.exit(2);
    }
    try {
      const { sandbox, serverEnv } = await startSandboxFor(process.env);
      console.log(
        `Sandbox    ${sandbox.url}  (stands in for WeChat and the payment sheet; credentials in ${path.join(serverEnv.DATA_DIR ?? './data', 'sandbox', 'sandbox.env')})`,
      );
      if (!process.env.ADMIN_TOKEN)
        console.log(`Admin      /api/admin with Authorization: Bearer $(cat ${adminTokenFile(serverEnv.DATA_DIR ?? './data')})`);
      env = serverEnv;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        console.error(`Cannot start: the sandbox's port is already in use. Stop what uses it, or set SANDBOX_PORT to a free port.`);
        process.exit(1);
      }
      console.error(`Cannot start: ${(err as Error).message}`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    }
  }
  const { config, server } = await serve(env);
  if (config.serveClient) void prepareClient(server.apiUrl, path.resolve('dist/h5'));
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

void main();
