import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';

/**
 * What a proxy's directory records about its tor process: the same labels a container carries. It is
 * written (atomically) before tor starts, with `pid: null`, and again with the pid once tor runs: a
 * reconciler killed between the two finds the record and adopts the tor by its torrc.
 */
export interface ProcessRecord {
  readonly pid: number | null;
  readonly startedAt: string;
  readonly labels: Readonly<Record<string, string>>;
}

export async function writeRecord(file: string, record: ProcessRecord): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** The record in `file`; undefined when there is none, or why it cannot be used. */
export async function readRecord(file: string): Promise<ProcessRecord | string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseRecord(text);
}

/** A record's text → the record, or why it is not one. */
export function parseRecord(text: string): ProcessRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'process.json is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'process.json is not an object';
  const record = value as Partial<Record<keyof ProcessRecord, unknown>>;
  const pid = record.pid;
  if (pid !== null && (!Number.isSafeInteger(pid) || (pid as number) <= 0))
    return 'process.json: pid is not a process id';
  if (typeof record.startedAt !== 'string') return 'process.json: startedAt is not a time';
  const labels = record.labels;
  if (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => typeof v !== 'string'))
    return 'process.json: labels are not strings';
  return value as ProcessRecord;
}
