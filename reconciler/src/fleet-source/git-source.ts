import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { errorMessage, TorfleetError } from '../errors.js';
import type { FleetDocument, FleetSource } from './fleet-source.js';

export interface GitSourceOptions {
  /** A git URL or a path of a repository. */
  readonly repository: string;
  readonly branch: string;
  /** The fleet file inside the repository. */
  readonly filePath: string;
  /** Where torfleet keeps its own clone. */
  readonly workDir: string;
  /** A git command that prints nothing for this long is ended (TORFLEET_GIT_TIMEOUT): a server that never answers. */
  readonly timeoutMs?: number;
}

/**
 * The fleet file of a branch of a git repository. torfleet keeps a bare clone in its work directory,
 * fetches the branch on every read, and reads the file at exactly the fetched commit (never a working
 * tree): the revision applied is that commit's SHA.
 */
export function createGitSource(options: GitSourceOptions): FleetSource {
  const { repository, branch, filePath, workDir } = options;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const fail = (what: string, error?: unknown): TorfleetError =>
    new TorfleetError('FLEET_UNREADABLE', 'waiting', `fleet repository ${repository}: ${what}`, { cause: error });
  const gitIn = (dir: string): SimpleGit => simpleGit(dir, { timeout: { block: timeoutMs } });
  /** simple-git's message for a command it ended after `timeout.block` ms without output. */
  const why = (error: unknown): string =>
    /block timeout reached/i.test(errorMessage(error))
      ? `no answer within ${String(timeoutMs / 1000)} s (TORFLEET_GIT_TIMEOUT)`
      : (errorMessage(error).split('\n')[0] ?? '');
  return {
    description: `git ${repository} branch ${branch}, ${filePath}`,
    async read(): Promise<FleetDocument> {
      if (!existsSync(path.join(workDir, 'HEAD'))) {
        await mkdir(workDir, { recursive: true });
        await gitIn(workDir)
          .init(true)
          .catch((error: unknown) => {
            throw fail(`cannot create the clone in ${workDir}`, error);
          });
      }
      const git = gitIn(workDir);
      const ref = `refs/torfleet/${branch}`;
      try {
        await git.fetch(repository, `+refs/heads/${branch}:${ref}`, ['--no-tags', '--depth=1']);
      } catch (error) {
        throw fail(
          `cannot fetch branch ${branch} (${why(error)}); check TORFLEET_FLEET_REPO and TORFLEET_FLEET_BRANCH`,
          error,
        );
      }
      const revision = (await git.revparse([ref])).trim();
      let text: string;
      try {
        text = await git.show([`${revision}:${filePath}`]);
      } catch (error) {
        throw new TorfleetError(
          'FLEET_UNREADABLE',
          'stalled',
          `fleet repository ${repository}: commit ${revision.slice(0, 12)} of ${branch} has no ${filePath}; commit it or set TORFLEET_FLEET_PATH`,
          { cause: error },
        );
      }
      return { text, revision, origin: `${filePath}@${revision.slice(0, 12)}` };
    },
  };
}
