// `npm run reconcile`: one reconciliation round, for cron or by hand, wired exactly as the server's own
// loop is. It runs on the WeChat credentials in the environment; against `npm start`'s local sandbox only
// when told so, because a round against the wrong credentials would reconcile nothing and say it had:
//   npm run reconcile                      # the environment's credentials (production: from your secrets)
//   npm run reconcile -- --sandbox         # DATA_DIR/sandbox/sandbox.env, as npm start wrote it
//   npm run reconcile -- --env-file FILE   # the variables in FILE (over what the environment has)
//   npm run reconcile -- --bill 2026-12-01 # that day's books against WeChat Pay's bill (with any of the above)
import fs from 'node:fs';
import util from 'node:util';
import { localSandboxEnv, sandboxEnvFile } from '../server/src/local-env';
import { runReconcileCommand } from '../server/src/reconcile-cli';

const USAGE = 'usage: npm run reconcile [-- [--sandbox | --env-file FILE] [--bill YYYY-MM-DD]]';

function parsed(argv: string[]): { sandbox: boolean; envFile?: string; bill?: string } | string {
  try {
    const { values, positionals } = util.parseArgs({
      args: argv,
      options: { sandbox: { type: 'boolean' }, 'env-file': { type: 'string' }, bill: { type: 'string' } },
      allowPositionals: true,
    });
    if (positionals.length) return `unexpected ${positionals.join(' ')}\n${USAGE}`;
    if (values.sandbox && values['env-file']) return `--sandbox and --env-file name two environments: choose one\n${USAGE}`;
    if (values.bill !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.bill))
      return `--bill: ${values.bill} is not a date as YYYY-MM-DD (Beijing)\n${USAGE}`;
    return { sandbox: values.sandbox ?? false, envFile: values['env-file'], bill: values.bill };
  } catch (err) {
    return `${USAGE}\n(${(err as Error).message})`;
  }
}

function environment(a: { sandbox: boolean; envFile?: string }): NodeJS.ProcessEnv | string {
  const dataDir = process.env.DATA_DIR ?? './data';
  if (a.sandbox) {
    const env = localSandboxEnv(dataDir);
    if (!env) return `--sandbox: ${sandboxEnvFile(dataDir)} does not exist; run \`npm start\` first (or set DATA_DIR to where it ran)`;
    return { ...process.env, ...env };
  }
  if (a.envFile !== undefined) {
    const file = a.envFile;
    if (!fs.existsSync(file)) return `--env-file: ${file} does not exist`;
    return { ...process.env, ...(util.parseEnv(fs.readFileSync(file, 'utf8')) as Record<string, string>) };
  }
  if (process.env.WECHAT_APPID) return process.env;
  return `No WeChat credentials in the environment (WECHAT_APPID and the rest are unset), so there is nothing to reconcile against.
Set them as the server has them, or pass --sandbox to use the local sandbox's (${sandboxEnvFile(dataDir)}), or --env-file FILE.
${USAGE}`;
}

const args = parsed(process.argv.slice(2));
const env = typeof args === 'string' ? args : environment(args);
if (typeof args === 'string' || typeof env === 'string') {
  console.error(typeof args === 'string' ? args : env);
  process.exit(2);
}
void runReconcileCommand(env, { billDate: args.bill });
