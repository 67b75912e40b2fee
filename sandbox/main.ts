// `npm run sandbox`: the sandbox on its own. It writes DATA_DIR/sandbox/sandbox.env; start the API
// with those variables (`node --env-file=data/sandbox/sandbox.env …`, or `npm start`, which does
// both). Keys are kept in DATA_DIR/sandbox/keys.json across restarts.
import { ConfigError } from '../server/src/config';
import { loadSandboxConfig } from './config';
import { sandboxEnvFile } from '../server/src/local-env';
import { startSandbox } from './server';

async function main() {
  let config: ReturnType<typeof loadSandboxConfig>;
  try {
    config = loadSandboxConfig();
  } catch (err) {
    console.error(`Cannot start the sandbox: ${(err as Error).message}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  for (const w of config.warnings) console.error(w);
  const running = await startSandbox({
    dataDir: config.dataDir,
    host: config.host,
    port: config.port,
    tlsPort: config.tlsPort,
    apiUrl: `http://${config.host}:${config.apiPort}`,
    controls: { timeScale: config.timeScale },
    signing: config.signing,
  });
  console.log(`READY sandbox ${running.url} (credentials in ${sandboxEnvFile(config.dataDir)})`);
  const stop = () => void running.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(`Cannot start the sandbox: ${(err as Error).message}`);
  process.exit(1);
});
