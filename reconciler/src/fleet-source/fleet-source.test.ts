import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { watchFile, watchLocalRepository } from '../reconcile/triggers.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { createFileSource } from './file-source.js';
import { createGitSource } from './git-source.js';

const dir = tempDir('sources');

function repository(name: string): { bare: string; commit: (text: string, file?: string) => string } {
  const bare = path.join(dir, `${name}.git`);
  const work = path.join(dir, `${name}-work`);
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['clone', '-q', bare, work], { stdio: 'ignore' });
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.email=t@torfleet.test', '-c', 'user.name=t', ...args], {
      cwd: work,
      encoding: 'utf8',
    });
  return {
    bare,
    commit(text: string, file = 'fleet/fleet.yaml'): string {
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      writeFileSync(path.join(work, file), text);
      git('add', '.');
      git('commit', '-qm', 'change');
      git('push', '-q', 'origin', 'HEAD:main');
      return git('rev-parse', 'HEAD').trim();
    },
  };
}

describe('git source (real bare repositories)', () => {
  test('reads the file at exactly the fetched commit, by path and by file:// URL', async () => {
    const repo = repository('a');
    const first = repo.commit('one\n');
    for (const url of [repo.bare, `file://${repo.bare}`]) {
      const source = createGitSource({
        repository: url,
        branch: 'main',
        filePath: 'fleet/fleet.yaml',
        workDir: path.join(dir, `clone-${url.length}`),
      });
      assert.deepEqual(await source.read(), {
        text: 'one\n',
        revision: first,
        origin: `fleet/fleet.yaml@${first.slice(0, 12)}`,
      });
    }
    const source = createGitSource({
      repository: repo.bare,
      branch: 'main',
      filePath: 'fleet/fleet.yaml',
      workDir: path.join(dir, 'clone-a'),
    });
    await source.read();
    const second = repo.commit('two\n');
    assert.deepEqual(await source.read(), {
      text: 'two\n',
      revision: second,
      origin: `fleet/fleet.yaml@${second.slice(0, 12)}`,
    });
  });

  test('a missing branch, file or repository is a readable error', async () => {
    const repo = repository('b');
    const sha = repo.commit('x\n', 'other.yaml');
    const read = (over: { repository?: string; branch?: string }) =>
      createGitSource({
        repository: over.repository ?? repo.bare,
        branch: over.branch ?? 'main',
        filePath: 'fleet/fleet.yaml',
        workDir: path.join(dir, `clone-b-${Math.random()}`),
      }).read();
    await assert.rejects(
      read({}),
      new RegExp(`commit ${sha.slice(0, 12)} of main has no fleet/fleet\\.yaml; commit it or set TORFLEET_FLEET_PATH`),
    );
    await assert.rejects(
      read({ branch: 'nope' }),
      /cannot fetch branch nope .*check TORFLEET_FLEET_REPO and TORFLEET_FLEET_BRANCH/,
    );
    await assert.rejects(
      read({ repository: path.join(dir, 'missing.git') }),
      /fleet repository .*missing\.git: cannot fetch branch main/,
    );
  });

  test('a push into a watched local repository fires at once', async () => {
    const repo = repository('c');
    repo.commit('1\n');
    let fired = 0;
    const stop = watchLocalRepository(repo.bare, () => fired++);
    assert.ok(stop);
    await new Promise((resolve) => setTimeout(resolve, 200));
    repo.commit('2\n');
    await waitFor('the ref watcher', () => fired > 0, 5000);
    await stop();
  });
});

describe('file source', () => {
  test('revision is a digest of the content; a change fires the watcher', async () => {
    const file = path.join(dir, 'fleet.yaml');
    writeFileSync(file, 'a\n');
    const source = createFileSource(file);
    const first = await source.read();
    assert.match(first.revision, /^file:[0-9a-f]{12}$/);
    let fired = 0;
    const stop = watchFile(file, () => fired++);
    await new Promise((resolve) => setTimeout(resolve, 200));
    writeFileSync(file, 'b\n');
    await waitFor('the file watcher', () => fired > 0, 5000);
    await stop();
    const second = await source.read();
    assert.notEqual(second.revision, first.revision);
    assert.equal(second.text, 'b\n');
    assert.deepEqual(await createFileSource(file).read(), second);
  });
  test('a missing file is a readable error', async () => {
    await assert.rejects(
      createFileSource(path.join(dir, 'none.yaml')).read(),
      /cannot read fleet file .*none\.yaml; check the path/,
    );
  });
});
