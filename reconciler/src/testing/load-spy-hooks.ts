/** The module hooks of load-spy.ts (they run in Node's loader thread): each resolved specifier, a line. */
import { appendFileSync } from 'node:fs';

let file = '';

export function initialize(data: { file: string }): void {
  file = data.file;
}

export async function resolve(
  specifier: string,
  context: unknown,
  next: (specifier: string, context: unknown) => Promise<unknown>,
): Promise<unknown> {
  appendFileSync(file, `resolve ${specifier}\n`);
  return next(specifier, context);
}
