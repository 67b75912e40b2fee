// Tests that measure something print one line per figure and keep it as
// test-results/figures/<name>.json, so docs/reliability.md can quote the numbers of a real run.
import fs from 'node:fs';
import path from 'node:path';

const dir = path.resolve(__dirname, '../../test-results/figures');

export function figure(name: string, summary: string, values: Record<string, number | string | boolean> = {}): void {
  console.log(`[figure] ${name}: ${summary}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, `${name}.json`),
    `${JSON.stringify({ name, summary, ...values, at: new Date().toISOString() }, null, 2)}\n`,
  );
}
