import { readdirSync, readFileSync, statSync } from 'node:fs';

/**
 * Tor processes of the process runtime, found from /proc. A pid counts as a proxy's tor only while its
 * arguments name that proxy's torrc and it is not a zombie: a record's pid reused by another process is
 * never adopted or signalled.
 */
export function isTorUsing(pid: number, torrcFile: string): boolean {
  try {
    return argvOf(pid).includes(torrcFile) && !isZombie(pid);
  } catch {
    return false;
  }
}

/**
 * Every live process started with `-f TORRC`, by that torrc, oldest pid first: one scan of /proc for all
 * proxies. A reconciler killed -9 between starting a tor and recording it leaves such a process behind.
 */
export function torsByTorrc(): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const argv = argvOf(pid);
      const torrc = argv[argv.indexOf('-f') + 1];
      if (!argv.includes('-f') || torrc === undefined || isZombie(pid)) continue;
      found.set(torrc, [...(found.get(torrc) ?? []), pid]);
    } catch {
      // the process ended while we looked
    }
  }
  for (const pids of found.values()) pids.sort((a, b) => a - b);
  return found;
}

/** A process's arguments; throws once it has ended. */
function argvOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}

export function torsUsing(torrcFile: string): number[] {
  return torsByTorrc().get(torrcFile) ?? [];
}

/** Which of `pids` holds the flock tor takes on `<DataDirectory>/lock` (listed in /proc/locks), if any. */
export function lockHolder(lockFile: string, pids: readonly number[]): number | undefined {
  let inode: number;
  try {
    inode = statSync(lockFile).ino;
  } catch {
    return undefined;
  }
  for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 18923 fe:00:2156581 0 EOF"
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[4]);
    if (fields[5]?.split(':')[2] === String(inode) && pids.includes(pid)) return pid;
  }
  return undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; returns once the process is gone (its data directory lock freed). */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await gone(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await gone(pid, graceMs);
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  for (let waited = 0; waited < withinMs && isAlive(pid); waited += 50)
    await new Promise((resolve) => setTimeout(resolve, 50));
  return !isAlive(pid);
}

function isZombie(pid: number): boolean {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
}
