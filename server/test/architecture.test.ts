// The layering rules, checked over the real import graph so that a later change that breaks one
// fails CI. Every import and re-export of every file under server/src is read with TypeScript's
// own pre-processor (type-only imports included: a type is a dependency too).
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const src = path.join(root, 'server/src');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** `file`'s imports: repository-relative paths for relative imports, package names otherwise. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map(({ fileName: spec }) => {
    if (!spec.startsWith('.'))
      return spec.startsWith('node:')
        ? spec
        : spec
            .split('/')
            .slice(0, spec.startsWith('@') ? 2 : 1)
            .join('/');
    return path.relative(root, path.resolve(path.dirname(file), spec));
  });
}

const graph = filesUnder(src).map((f) => ({ file: path.relative(root, f), imports: importsOf(f) }));

/** Every (file, import) pair under `from` whose import matches one of `forbidden`. */
function violations(from: string, forbidden: (RegExp | string)[], except: (RegExp | string)[] = []): string[] {
  const matches = (imp: string, p: RegExp | string) => (typeof p === 'string' ? imp === p || imp.startsWith(`${p}/`) : p.test(imp));
  return graph
    .filter((g) => g.file.startsWith(`${from}/`))
    .flatMap((g) =>
      g.imports.filter((i) => forbidden.some((p) => matches(i, p)) && !except.some((p) => matches(i, p))).map((i) => `${g.file} → ${i}`),
    );
}

describe('the import graph', () => {
  it('reads every file of server/src', () => {
    expect(graph.length).toBeGreaterThan(30);
    // The reader sees real imports: the app imports its routes.
    expect(graph.find((g) => g.file === 'server/src/app.ts')?.imports).toContain('server/src/http/orders');
  });

  it('nothing in server/src imports the sandbox or the dev scripts', () => {
    expect(violations('server/src', ['sandbox', 'scripts'])).toEqual([]);
  });

  it('the domain imports no protocol, framework or database driver, and only the ports of the providers', () => {
    expect(
      violations(
        'server/src/domain',
        [
          'server/src/wechatpay',
          'server/src/wechat',
          'server/src/http',
          'server/src/storage/sqlite',
          'server/src/storage/mongo',
          'server/src/payments',
          'server/src/identity',
          'express',
          'better-sqlite3',
          'mongoose',
          'mongodb',
        ],
        ['server/src/domain/ports/payment-provider', 'server/src/domain/ports/identity-provider'],
      ),
    ).toEqual([]);
  });

  it('the WeChat protocol libraries know nothing of the shop', () => {
    const shop = ['server/src/domain', 'server/src/storage', 'server/src/http', 'server/src/payments', 'server/src/identity', 'express'];
    expect(violations('server/src/wechatpay', shop)).toEqual([]);
    expect(violations('server/src/wechat', shop)).toEqual([]);
  });

  it('routes never import storage', () => {
    expect(violations('server/src/http', ['server/src/storage', 'better-sqlite3', 'mongoose'])).toEqual([]);
  });

  it('a rule would catch a break', () => {
    // The same check over a made-up graph entry: the rules are not vacuous.
    graph.push({ file: 'server/src/domain/bad.ts', imports: ['server/src/wechatpay/client', 'express'] });
    try {
      expect(violations('server/src/domain', ['server/src/wechatpay', 'express'])).toEqual([
        'server/src/domain/bad.ts → server/src/wechatpay/client',
        'server/src/domain/bad.ts → express',
      ]);
    } finally {
      graph.pop();
    }
  });
});
