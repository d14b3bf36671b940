/**
 * A preload (`node --import .../load-spy.js`) that records, one line each, into the file named by
 * TORFLEET_LOAD_SPY_FILE: every module specifier resolved (`resolve SPECIFIER`), `require`s included, and
 * every path under /proc that the public fs functions are asked for (`proc PATH`). For the laptop test:
 * `torfleet gateway` must load neither better-sqlite3 nor dockerode and read nothing Linux-only.
 */
import { appendFileSync } from 'node:fs';
import fs from 'node:fs';
import { register, syncBuiltinESMExports } from 'node:module';

const file = process.env.TORFLEET_LOAD_SPY_FILE;
if (!file) throw new Error('load-spy.js needs TORFLEET_LOAD_SPY_FILE');
register('./load-spy-hooks.js', import.meta.url, { data: { file } });

const record = (line: string): void => {
  appendFileSync(file, `${line}\n`);
};
type PathTaking = (target: unknown, ...rest: unknown[]) => unknown;
const watched = (target: unknown): void => {
  const text = target instanceof URL ? target.pathname : typeof target === 'string' ? target : '';
  if (text === '/proc' || text.startsWith('/proc/')) record(`proc ${text}`);
};
const names = ['readFile', 'readFileSync', 'open', 'openSync', 'readdir', 'readdirSync', 'stat', 'statSync'];
const targets = [fs as unknown as Record<string, PathTaking>, fs.promises as unknown as Record<string, PathTaking>];
for (const target of targets) {
  for (const name of names) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (this: unknown, path: unknown, ...rest: unknown[]) {
      watched(path);
      return original.call(this, path, ...rest);
    };
  }
}
syncBuiltinESMExports();
