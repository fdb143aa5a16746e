// Config validation at the edge: zod parse once at startup, then freeze.
import type { z } from 'zod';
import { configError } from './errors.js';

/** Parses `input` with `schema`; throws a config error that names the first bad field. */
export function loadConfig<S extends z.ZodType>(schema: S, input: unknown, where: string): Readonly<z.output<S>> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = [where, ...(issue?.path ?? []).map(String)].join('.');
    throw configError(field, issue?.message ?? 'invalid', result.error);
  }
  return Object.freeze(result.data);
}
