// `npm run reconcile`: one reconciliation round. Without WeChat credentials in the environment it
// uses the ones `npm start`'s sandbox wrote (DATA_DIR/sandbox/sandbox.env), so it works beside it.
import fs from 'node:fs';
import util from 'node:util';
import { sandboxEnvFile } from '../sandbox/keys';

if (!process.env.WECHAT_APPID) {
  const file = sandboxEnvFile(process.env.DATA_DIR ?? './data');
  if (fs.existsSync(file)) Object.assign(process.env, { ...util.parseEnv(fs.readFileSync(file, 'utf8')), ...process.env });
}
require('../server/src/reconcile-cli');
