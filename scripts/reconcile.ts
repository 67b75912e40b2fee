// `npm run reconcile`: one reconciliation round, for cron or by hand, wired exactly as the server's own
// loop is. It runs on the WeChat credentials in the environment; against `npm start`'s local sandbox only
// when told so, because a round against the wrong credentials would reconcile nothing and say it had:
//   npm run reconcile                      # the environment's credentials (production: from your secrets)
//   npm run reconcile -- --sandbox         # DATA_DIR/sandbox/sandbox.env, as npm start wrote it
//   npm run reconcile -- --env-file FILE   # the variables in FILE (over what the environment has)
import fs from 'node:fs';
import util from 'node:util';
import { localSandboxEnv, sandboxEnvFile } from '../server/src/local-env';
import { runReconcileCommand } from '../server/src/reconcile-cli';

const USAGE = 'usage: npm run reconcile [-- --sandbox | --env-file FILE]';

function environment(args: string[]): NodeJS.ProcessEnv | string {
  const dataDir = process.env.DATA_DIR ?? './data';
  if (args.length === 0) {
    if (process.env.WECHAT_APPID) return process.env;
    return `No WeChat credentials in the environment (WECHAT_APPID and the rest are unset), so there is nothing to reconcile against.
Set them as the server has them, or pass --sandbox to use the local sandbox's (${sandboxEnvFile(dataDir)}), or --env-file FILE.
${USAGE}`;
  }
  if (args.length === 1 && args[0] === '--sandbox') {
    const env = localSandboxEnv(dataDir);
    if (!env) return `--sandbox: ${sandboxEnvFile(dataDir)} does not exist; run \`npm start\` first (or set DATA_DIR to where it ran)`;
    return { ...process.env, ...env };
  }
  if (args.length === 2 && args[0] === '--env-file') {
    const file = args[1]!;
    if (!fs.existsSync(file)) return `--env-file: ${file} does not exist`;
    return { ...process.env, ...(util.parseEnv(fs.readFileSync(file, 'utf8')) as Record<string, string>) };
  }
  return USAGE;
}

const env = environment(process.argv.slice(2));
if (typeof env === 'string') {
  console.error(env);
  process.exit(2);
}
void runReconcileCommand(env);
