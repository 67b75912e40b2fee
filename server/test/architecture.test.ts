// The layering rules, checked over the real import graph of the whole repository so that a change
// that breaks one fails CI. Every import and re-export is read with TypeScript's own parser (type-only
// imports included: a type is a dependency too). The rules:
// - no import cycle anywhere (server, sandbox, scripts, client, bench, e2e, config);
// - the domain imports nothing but the domain and Node's built-ins: no framework, driver or protocol;
//   its ports import no adapter;
// - the WeChat protocol libraries (wechatpay/, wechat/) know nothing of the shop;
// - adapters (storage/, payments/, identity/, shipping/) are imported by the composition root only;
// - routes (http/) never reach storage; the sandbox uses the server's protocol libraries, nothing else;
// - the client reaches the server only with `import type`.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ENTITY_MODULES } from './support/domain-modules';

const root = path.resolve(__dirname, '../..');
const rel = (p: string) => path.relative(root, p).split(path.sep).join('/');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : filesUnder(p);
    return /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** A relative specifier's file, as TypeScript's bundler resolution finds it; null for a package. */
function resolveLocal(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts'), path.join(base, 'index.tsx')])
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  return base;
}

interface Edge {
  /** Repository-relative path without extension for local files; the package name otherwise. */
  to: string;
  typeOnly: boolean;
}

function importsOf(file: string): Edge[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const edges: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    const local = resolveLocal(file, spec);
    const to = local
      ? rel(local).replace(/(\/index)?\.tsx?$/, '')
      : spec.startsWith('node:')
        ? spec
        : spec
            .split('/')
            .slice(0, spec.startsWith('@') ? 2 : 1)
            .join('/');
    edges.push({ to, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly = Boolean(
        clause?.isTypeOnly ||
          (clause?.namedBindings &&
            ts.isNamedImports(clause.namedBindings) &&
            !clause.name &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)),
      );
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
      add(node.moduleSpecifier.text, node.isTypeOnly);
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    )
      add(node.arguments[0].text, false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal))
      add(node.argument.literal.text, true);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

const AREAS = ['server', 'sandbox', 'scripts', 'client', 'bench', 'e2e', 'config'];
const graph = new Map(
  AREAS.flatMap((a) => filesUnder(path.join(root, a))).map((f) => [rel(f).replace(/(\/index)?\.tsx?$/, ''), importsOf(f)] as const),
);

/** Every (file, import) pair from files under `from` whose target is under one of `forbidden` (and none of `except`). */
function violations(from: string, forbidden: (RegExp | string)[], except: (RegExp | string)[] = [], g = graph): string[] {
  const under = (name: string, p: RegExp | string) => (typeof p === 'string' ? name === p || name.startsWith(`${p}/`) : p.test(name));
  return [...g]
    .filter(([file]) => under(file, from))
    .flatMap(([file, edges]) =>
      edges.filter((e) => forbidden.some((p) => under(e.to, p)) && !except.some((p) => under(e.to, p))).map((e) => `${file} → ${e.to}`),
    );
}

/** Strongly connected components of more than one file (or a file importing itself): the import cycles. */
function cycles(g = graph): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of g.get(v) ?? []) {
      if (!g.has(to)) continue;
      if (!idx.has(to)) {
        strong(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v)!, idx.get(to)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (g.get(v) ?? []).some((e) => e.to === v)) found.push(component.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) strong(v);
  return found;
}

const SRC = 'server/src';
const DOMAIN = `${SRC}/domain`;
const ADAPTERS = [`${SRC}/storage`, `${SRC}/payments`, `${SRC}/identity`, `${SRC}/shipping`];
const PROTOCOL = [`${SRC}/wechatpay`, `${SRC}/wechat`];
const SHOP = [DOMAIN, `${SRC}/http`, ...ADAPTERS, `${SRC}/app`, `${SRC}/server`, `${SRC}/wiring`, `${SRC}/metrics`];

describe('the import graph', () => {
  it('reads every file of the repository, with real edges', () => {
    expect([...graph.keys()].filter((f) => f.startsWith(SRC)).length).toBeGreaterThan(50);
    expect(graph.get(`${SRC}/app`)?.map((e) => e.to)).toContain(`${SRC}/http/orders`);
    expect(graph.get('client/services/orders')?.find((e) => e.to === `${SRC}/http/schemas`)?.typeOnly).toBe(true);
  });

  it('has no import cycle anywhere', () => {
    expect(cycles()).toEqual([]);
  });

  it('keeps the domain free of frameworks, drivers and protocols: it imports only itself and Node built-ins', () => {
    const outside = [...graph]
      .filter(([f]) => f.startsWith(`${DOMAIN}/`))
      .flatMap(([f, edges]) =>
        edges.filter((e) => !e.to.startsWith(`${DOMAIN}/`) && !e.to.startsWith('node:')).map((e) => `${f} → ${e.to}`),
      );
    expect(outside).toEqual([]);
  });

  it('keeps the ports free of adapters and use cases: they import domain types only', () => {
    const useCases = [...graph.keys()].filter((f) => f.startsWith(`${DOMAIN}/`) && !f.startsWith(`${DOMAIN}/ports/`));
    const isType = new Set(ENTITY_MODULES.map((m) => `${DOMAIN}/${m}`));
    expect(
      violations(
        `${DOMAIN}/ports`,
        useCases.filter((f) => !isType.has(f)),
      ),
    ).toEqual([]);
  });

  it('keeps the WeChat protocol libraries ignorant of the shop', () => {
    for (const lib of PROTOCOL) expect(violations(lib, [...SHOP, 'express'])).toEqual([]);
  });

  it('lets only the composition root import an adapter', () => {
    const importers = [...graph]
      .filter(([f]) => f.startsWith(`${SRC}/`) && !ADAPTERS.some((a) => f.startsWith(`${a}/`)))
      .flatMap(([f, edges]) => edges.filter((e) => ADAPTERS.some((a) => e.to.startsWith(`${a}/`))).map((e) => `${f} → ${e.to}`));
    expect(importers.filter((i) => !i.startsWith(`${SRC}/wiring →`))).toEqual([]);
    expect(importers.length).toBeGreaterThan(0);
  });

  it('keeps adapters apart: none imports another, nor the routes', () => {
    for (const a of ADAPTERS)
      expect(violations(a, [...ADAPTERS.filter((b) => b !== a), `${SRC}/http`, `${SRC}/app`, `${SRC}/server`, `${SRC}/wiring`])).toEqual(
        [],
      );
  });

  it('keeps routes away from storage', () => {
    expect(violations(`${SRC}/http`, [`${SRC}/storage`, 'better-sqlite3', 'mongoose'])).toEqual([]);
  });

  it('keeps the server independent of the dev tools, and the sandbox on the protocol libraries', () => {
    expect(violations(SRC, ['sandbox', 'scripts', 'e2e', 'bench', 'client'])).toEqual([]);
    expect(violations('sandbox', [SRC], [...PROTOCOL, `${SRC}/config`, `${SRC}/local-env`])).toEqual([]);
  });

  it('lets the client reach the server with `import type` only', () => {
    const runtime = [...graph]
      .filter(([f]) => f.startsWith('client/') && !f.startsWith('client/test/'))
      .flatMap(([f, edges]) => edges.filter((e) => e.to.startsWith('server/') && !e.typeOnly).map((e) => `${f} → ${e.to}`));
    expect(runtime).toEqual([]);
  });

  it("matches README's layout: every folder of the server and the sandbox is named there, and every top-level path it names exists", () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const layout = /## Layout\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const dirs = (d: string): string[] =>
      fs
        .readdirSync(path.join(root, d), { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? [`${d}/${e.name}`, ...dirs(`${d}/${e.name}`)] : []));
    const unnamed = [...dirs('server/src'), ...dirs('sandbox')].filter(
      (d) => !new RegExp(`(^|[\\s(,])${path.basename(d)}/`, 'm').test(layout),
    );
    expect(unnamed).toEqual([]);
    const topLevel = layout.split('\n').flatMap((line) => /^(\S+\/)/.exec(line)?.[1] ?? []);
    expect(topLevel.length).toBeGreaterThan(8);
    expect(topLevel.filter((p) => !fs.existsSync(path.join(root, p)))).toEqual([]);
  });

  it('would catch a break of each rule (the checks are not vacuous)', () => {
    const broken = new Map<string, Edge[]>();
    broken.set(`${DOMAIN}/bad`, [
      { to: `${SRC}/wechatpay/client`, typeOnly: false },
      { to: 'express', typeOnly: false },
    ]);
    broken.set(`${SRC}/http/bad`, [{ to: `${SRC}/storage/sqlite`, typeOnly: false }]);
    expect(violations(DOMAIN, [`${SRC}/wechatpay`, 'express'], [], broken)).toEqual([
      `${DOMAIN}/bad → ${SRC}/wechatpay/client`,
      `${DOMAIN}/bad → express`,
    ]);
    expect(violations(`${SRC}/http`, [`${SRC}/storage`], [], broken)).toEqual([`${SRC}/http/bad → ${SRC}/storage/sqlite`]);
    const looped = new Map([
      ['sandbox/a', [{ to: 'sandbox/b', typeOnly: true }]],
      ['sandbox/b', [{ to: 'sandbox/c', typeOnly: false }]],
      ['sandbox/c', [{ to: 'sandbox/a', typeOnly: false }]],
      ['sandbox/d', [{ to: 'sandbox/a', typeOnly: false }]],
    ]);
    expect(cycles(looped)).toEqual([['sandbox/a', 'sandbox/b', 'sandbox/c']]);
  });
});
