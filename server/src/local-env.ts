// Where a local run keeps what `npm start` generated: the sandbox's credentials (written as live ones
// arrive: an env file and PEM files) and the key that seals secrets at rest. Read only when asked for.
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';

/** DATA_DIR/sandbox/sandbox.env: the server's WeChat variables, as the sandbox hands them over. */
export const sandboxEnvFile = (dataDir: string) => path.join(dataDir, 'sandbox', 'sandbox.env');
/** DATA_DIR/data_key: DATA_ENCRYPTION_KEY for a local run. */
export const dataKeyFile = (dataDir: string) => path.join(dataDir, 'data_key');

/** The sandbox's credentials with the local data key, as `npm start` gives them to the server; null when the sandbox has not run here. */
export function localSandboxEnv(dataDir: string): Record<string, string> | null {
  const file = sandboxEnvFile(dataDir);
  if (!fs.existsSync(file)) return null;
  const env = util.parseEnv(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  const keyFile = dataKeyFile(dataDir);
  return fs.existsSync(keyFile) ? { ...env, DATA_ENCRYPTION_KEY: fs.readFileSync(keyFile, 'utf8').trim() } : env;
}
