import type Database from 'better-sqlite3';
import { assignedCountry } from './country-codes.js';
import type { NodeSource } from './node-source.js';
import { logRefresh } from './refresh-log.js';
import { exitIPv4, isBadExit, isExit, network16, type NodeSnapshot } from './relay.js';
import type { RefusalReason, SnapshotSummary } from './snapshot-guard.js';

/** How long relays that left the network are kept (for capacity and history). */
const RETENTION_DAYS = 30;

/**
 * Replaces the relay set with `snapshot` in one transaction: relays it lists are upserted as listed,
 * every other relay is marked not running, and the refresh is logged. Countries that are not assigned
 * ISO 3166-1 codes are stored as unknown (NULL).
 */
export function writeSnapshot(
  db: Database.Database,
  source: NodeSource,
  snapshot: NodeSnapshot,
  lastModified: string | null,
  started: Date,
  finished: Date,
): void {
  const published = snapshot.relaysPublished.toISOString();
  const retentionCutoff = new Date(finished.getTime() - RETENTION_DAYS * 86_400_000).toISOString();
  const upsert = db.prepare(`
    INSERT INTO relays (fingerprint, nickname, or_addresses, exit_addresses, exit_ipv4, network16, country, as_number,
                        flags, is_exit, is_bad_exit, running, exit_policy_summary, first_seen, last_seen)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (fingerprint) DO UPDATE SET
      nickname = excluded.nickname, or_addresses = excluded.or_addresses, exit_addresses = excluded.exit_addresses,
      exit_ipv4 = excluded.exit_ipv4, network16 = excluded.network16, country = excluded.country,
      as_number = excluded.as_number, flags = excluded.flags, is_exit = excluded.is_exit,
      is_bad_exit = excluded.is_bad_exit, running = excluded.running,
      exit_policy_summary = excluded.exit_policy_summary,
      first_seen = min(relays.first_seen, excluded.first_seen), last_seen = excluded.last_seen`);
  db.transaction(() => {
    db.prepare('UPDATE relays SET running = 0 WHERE running = 1').run();
    let exits = 0;
    for (const relay of snapshot.relays) {
      const ipv4 = exitIPv4(relay);
      if (isExit(relay)) exits++;
      upsert.run(
        relay.fingerprint,
        relay.nickname,
        JSON.stringify(relay.orAddresses),
        JSON.stringify(relay.exitAddresses),
        ipv4,
        ipv4 === null ? null : network16(ipv4),
        assignedCountry(relay.country),
        relay.asNumber,
        JSON.stringify(relay.flags),
        isExit(relay) ? 1 : 0,
        isBadExit(relay) ? 1 : 0,
        relay.running ? 1 : 0,
        relay.exitPolicySummary === null ? null : JSON.stringify(relay.exitPolicySummary),
        relay.firstSeen ?? published,
        relay.lastSeen ?? published,
      );
    }
    db.prepare('DELETE FROM relays WHERE running = 0 AND last_seen < ?').run(retentionCutoff);
    logRefresh(db, {
      source,
      started,
      finished,
      outcome: 'updated',
      relays: snapshot.relays.length,
      exits,
      relaysPublished: published,
    });
    db.prepare(
      `INSERT INTO source_state (source, location, last_modified, relays_published) VALUES (?, ?, ?, ?)
       ON CONFLICT (source, location) DO UPDATE SET last_modified = excluded.last_modified,
         relays_published = excluded.relays_published`,
    ).run(source.name, source.location, lastModified, published);
    db.prepare(
      `UPDATE node_state SET relays_published = ?, refreshed_at = ?, refused_at = NULL, refusal_reason = NULL,
         refusal_message = NULL, refused_published = NULL`,
    ).run(published, finished.toISOString());
  })();
}

export function writeNotModified(db: Database.Database, source: NodeSource, started: Date, finished: Date): void {
  db.transaction(() => {
    logRefresh(db, { source, started, finished, outcome: 'not_modified' });
    db.prepare('UPDATE node_state SET refreshed_at = ?').run(finished.toISOString());
  })();
}

/** Logs a refused snapshot and keeps it as the refusal the stats report until a snapshot is stored. */
export function writeRefusal(
  db: Database.Database,
  source: NodeSource,
  started: Date,
  finished: Date,
  incoming: SnapshotSummary,
  reason: RefusalReason,
  message: string,
): void {
  const published = incoming.relaysPublished.toISOString();
  const exits = incoming.exits.US + incoming.exits.NON_US;
  db.transaction(() => {
    logRefresh(db, {
      source,
      started,
      finished,
      outcome: 'refused',
      relays: incoming.relays,
      exits,
      relaysPublished: published,
      error: message,
      reason,
    });
    db.prepare(
      'UPDATE node_state SET refused_at = ?, refusal_reason = ?, refusal_message = ?, refused_published = ?',
    ).run(finished.toISOString(), reason, message, published);
  })();
}
