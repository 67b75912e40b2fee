import type { z } from 'zod';
import { AppError } from '../domain/errors';

/** "items[0].quantity" from a zod path. */
export function fieldName(path: readonly PropertyKey[], root = ''): string {
  return (
    path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), root) ||
    root ||
    'body'
  );
}

export function parse<T extends z.ZodType>(schema: T, value: unknown, root = ''): z.infer<T> {
  // reportInput: without it zod leaves `input` out of every issue, and a wrong type would read as missing.
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = fieldName(issue.path, root);
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  throw new AppError('VALIDATION_FAILED', `${field}: ${message}`, { field });
}
