import type { Logger } from '../logger.js';
import type { Settings } from '../settings.js';

/** What a command may touch: its arguments, settings, output streams, a logger and the clock. */
export interface CliContext {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly settings: Settings;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly log: Logger;
  readonly now: () => Date;
}

/** A command's exit code: 0 success; 1 error or invalid; 2 "changes pending" (plan). */
export type ExitCode = 0 | 1 | 2;
