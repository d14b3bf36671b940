/** A content job's status (the contract): QUEUED → FETCHING → PACKAGING → SEEDING → READY, or FAILED / CANCELLED. */
export const JOB_STATUSES = ['QUEUED', 'FETCHING', 'PACKAGING', 'SEEDING', 'READY', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * Where each status may go. A retry of a transient fetch failure goes back to QUEUED (with its attempt counted);
 * a restart puts a job caught in FETCHING or PACKAGING back to QUEUED (its partial file is discarded) and a
 * SEEDING one on to READY once its seeder is up again. FAILED and CANCELLED are final; READY ends by expiry or
 * DELETE (CANCELLED, its content freed when no other job shares it), or FAILED when a restart cannot seed its
 * content again (the file went away).
 */
const NEXT: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  QUEUED: ['FETCHING', 'CANCELLED', 'FAILED'],
  FETCHING: ['PACKAGING', 'QUEUED', 'FAILED', 'CANCELLED'],
  PACKAGING: ['SEEDING', 'QUEUED', 'FAILED', 'CANCELLED'],
  SEEDING: ['READY', 'FAILED', 'CANCELLED'],
  READY: ['CANCELLED', 'FAILED'],
  FAILED: [],
  CANCELLED: [],
};

export function canMove(from: JobStatus, to: JobStatus): boolean {
  return NEXT[from].includes(to);
}

export function isFinal(status: JobStatus): boolean {
  return NEXT[status].length === 0;
}

/** What a restart does to a job found in `status`: run it again, seed it again, or leave it. */
export function afterRestart(status: JobStatus): 'requeue' | 'reseed' | 'keep' {
  if (status === 'FETCHING' || status === 'PACKAGING') return 'requeue';
  if (status === 'SEEDING' || status === 'READY') return 'reseed';
  return 'keep';
}
