import type Database from 'better-sqlite3';

/** What makes a request the same as an earlier one: the same client asking for the same thing. */
export interface LeaseKey {
  readonly client: string;
  readonly exchangeId: string;
  readonly connectionType: string;
  /** The region's label as resolved (region.ts). */
  readonly region: string;
}

export interface Lease extends LeaseKey {
  readonly id: string;
  readonly proxyId: string;
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

interface LeaseRow {
  id: string;
  client: string;
  exchange_id: string;
  connection_type: string;
  region: string;
  proxy_id: string;
  created_at: number;
  expires_at: number;
}

/**
 * The broker's leases in the torfleet database (table `leases`, created by the store's migrations), so a restart
 * keeps them: a client asking again after the restart gets its proxy (and Tor circuit) back. Times are ms.
 */
export class LeaseStore {
  readonly #sticky: Database.Statement<[string, string, string, string, number], LeaseRow>;
  readonly #byId: Database.Statement<[string], LeaseRow>;
  readonly #put: Database.Statement<LeaseRow>;
  readonly #extend: Database.Statement<[number, string]>;
  readonly #prune: Database.Statement<[number]>;
  readonly #perProxy: Database.Statement<[number], { proxy_id: string; leases: number }>;

  constructor(db: Database.Database) {
    this.#sticky = db.prepare(
      `SELECT * FROM leases WHERE client = ? AND exchange_id = ? AND connection_type = ? AND region = ?
       AND expires_at > ? ORDER BY expires_at DESC LIMIT 1`,
    );
    this.#byId = db.prepare('SELECT * FROM leases WHERE id = ?');
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO leases (id, client, exchange_id, connection_type, region, proxy_id, created_at, expires_at)
       VALUES (@id, @client, @exchange_id, @connection_type, @region, @proxy_id, @created_at, @expires_at)`,
    );
    this.#extend = db.prepare('UPDATE leases SET expires_at = ? WHERE id = ?');
    this.#prune = db.prepare('DELETE FROM leases WHERE expires_at <= ?');
    this.#perProxy = db.prepare(
      'SELECT proxy_id, count(*) AS leases FROM leases WHERE expires_at > ? GROUP BY proxy_id ORDER BY proxy_id',
    );
  }

  /** The live lease (not expired at `now`) of `key`, or null. */
  sticky(key: LeaseKey, now: number): Lease | null {
    const row = this.#sticky.get(key.client, key.exchangeId, key.connectionType, key.region, now);
    return row ? leaseOf(row) : null;
  }

  /** A lease by id, expired or not (feedback may come after the end of its lease), or null. */
  get(id: string): Lease | null {
    const row = this.#byId.get(id);
    return row ? leaseOf(row) : null;
  }

  put(lease: Lease): void {
    this.#put.run({
      id: lease.id,
      client: lease.client,
      exchange_id: lease.exchangeId,
      connection_type: lease.connectionType,
      region: lease.region,
      proxy_id: lease.proxyId,
      created_at: lease.createdAt,
      expires_at: lease.expiresAt,
    });
  }

  /** Moves a lease's end; false when there is no such lease. */
  extend(id: string, expiresAt: number): boolean {
    return this.#extend.run(expiresAt, id).changes > 0;
  }

  /** Deletes the leases that ended at or before `before`; returns how many. */
  prune(before: number): number {
    return this.#prune.run(before).changes;
  }

  /** Live leases per proxy at `now`, by proxy id. */
  leasesPerProxy(now: number): ReadonlyMap<string, number> {
    return new Map(this.#perProxy.all(now).map((row) => [row.proxy_id, row.leases]));
  }
}

function leaseOf(row: LeaseRow): Lease {
  return {
    id: row.id,
    client: row.client,
    exchangeId: row.exchange_id,
    connectionType: row.connection_type,
    region: row.region,
    proxyId: row.proxy_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
