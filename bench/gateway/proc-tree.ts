/** CPU time and RSS of a process and all its descendants, from Linux /proc (the bench runs on Linux only). */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on every Linux architecture we run). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime in ticks from one /proc/PID/stat line; the command name (field 2) may hold spaces and parens. */
export function parseStatCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`/proc stat: no utime/stime in "${stat}"`);
  return utime + stime;
}

/** VmRSS in kB from /proc/PID/status; 0 for a zombie (it has no VmRSS line). */
export function parseVmRssKb(status: string): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) : 0;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process or thread ended between listing and reading: it no longer counts
  }
}

/** The pid and every descendant (threads are counted inside their process's stat; children via task/<tid>/children). */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${all[i]}/task`);
    } catch {
      continue; // it ended meanwhile
    }
    for (const tid of tasks) {
      const children = read(`/proc/${all[i]}/task/${tid}/children`) ?? '';
      for (const child of children.split(' ').filter(Boolean)) all.push(Number(child));
    }
  }
  return all;
}

export interface TreeSample {
  readonly cpuTicks: number;
  readonly rssMb: number;
}

export function sampleTree(pid: number): TreeSample {
  let cpuTicks = 0;
  let rssKb = 0;
  for (const member of processTree(pid)) {
    const stat = read(`/proc/${member}/stat`);
    const status = read(`/proc/${member}/status`);
    if (stat !== null) cpuTicks += parseStatCpuTicks(stat);
    if (status !== null) rssKb += parseVmRssKb(status);
  }
  return { cpuTicks, rssMb: rssKb / 1024 };
}
