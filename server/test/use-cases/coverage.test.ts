// The fast tier covers every use case: each function a use-case module of server/src/domain exports is
// called by name in a test of this folder. A use case added without a fast test fails here.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ENTITY_MODULES, WIRING_MODULES } from '../support/domain-modules';

const domain = path.resolve(__dirname, '../../src/domain');
/** Modules that hold entities, wiring types or errors rather than use cases. */
const NOT_USE_CASES = new Set([...ENTITY_MODULES, ...WIRING_MODULES].map((m) => `${m}.ts`));

function exportedFunctions(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  for (const s of source.statements) {
    const exported = ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isFunctionDeclaration(s) && s.name) names.push(s.name.text);
    if (ts.isVariableStatement(s))
      for (const d of s.declarationList.declarations)
        if (ts.isIdentifier(d.name) && d.initializer && ts.isArrowFunction(d.initializer)) names.push(d.name.text);
  }
  return names;
}

describe('the fast tier', () => {
  const modules = fs.readdirSync(domain).filter((f) => f.endsWith('.ts') && !NOT_USE_CASES.has(f));
  const tests = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.ts') && f !== 'coverage.test.ts')
    .map((f) => fs.readFileSync(path.join(__dirname, f), 'utf8'))
    .join('\n');

  it('finds the use-case modules', () => {
    expect(modules).toEqual(
      expect.arrayContaining(['auth.ts', 'place-order.ts', 'receive-notification.ts', 'reconcile.ts', 'refunds.ts', 'fulfilment.ts']),
    );
  });

  for (const m of modules)
    it(`calls every use case of domain/${m}`, () => {
      const uncalled = exportedFunctions(path.join(domain, m)).filter((name) => !new RegExp(`\\b${name}\\(`).test(tests));
      expect(uncalled).toEqual([]);
    });
});
