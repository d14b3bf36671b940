/**
 * Schema migrations of the node database, applied in order; `PRAGMA user_version` holds how many ran.
 * Append only: a released migration is never edited.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE relays (
    fingerprint TEXT PRIMARY KEY CHECK (length(fingerprint) = 40),
    nickname TEXT NOT NULL,
    or_addresses TEXT NOT NULL,           -- JSON array of "IP:PORT"
    exit_addresses TEXT NOT NULL,         -- JSON array of IPs; empty when unknown
    exit_ipv4 TEXT,                       -- first IPv4 exit address, else the OR address
    network16 TEXT,                       -- "a.b.0.0/16" of exit_ipv4
    country TEXT CHECK (country IS NULL OR (length(country) = 2 AND country = upper(country))),
    as_number TEXT,
    flags TEXT NOT NULL,                  -- JSON array
    is_exit INTEGER NOT NULL,
    is_bad_exit INTEGER NOT NULL,
    running INTEGER NOT NULL,
    exit_policy_summary TEXT,             -- JSON {"accept": [...]} or {"reject": [...]}, or NULL
    first_seen TEXT NOT NULL,             -- ISO 8601
    last_seen TEXT NOT NULL               -- ISO 8601
  ) WITHOUT ROWID;
  CREATE INDEX relays_eligible ON relays (country) WHERE running = 1 AND is_exit = 1 AND is_bad_exit = 0;

  CREATE TABLE refreshes (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,                 -- "onionoo" or "consensus"
    location TEXT NOT NULL,               -- its URL or file
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('updated', 'not_modified', 'failed')),
    relays INTEGER,
    exits INTEGER,
    relays_published TEXT,
    error TEXT
  );
  CREATE INDEX refreshes_outcome ON refreshes (outcome, id);

  CREATE TABLE source_state (
    source TEXT NOT NULL,
    location TEXT NOT NULL,
    last_modified TEXT,                   -- the source's Last-Modified, sent back as If-Modified-Since
    relays_published TEXT,
    PRIMARY KEY (source, location)
  ) WITHOUT ROWID;
  `,
  // 2: refused snapshots in the refresh log; the stored snapshot's state in one row, so it never depends on how
  // many refreshes the (trimmed) log still holds.
  `
  CREATE TABLE refreshes_v2 (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    location TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('updated', 'not_modified', 'failed', 'refused')),
    relays INTEGER,
    exits INTEGER,
    relays_published TEXT,
    error TEXT,                           -- failed: the error; refused: why
    reason TEXT                           -- refused: older | future | empty | exit_drop
  );
  INSERT INTO refreshes_v2 (id, source, location, started_at, finished_at, outcome, relays, exits, relays_published, error)
    SELECT id, source, location, started_at, finished_at, outcome, relays, exits, relays_published, error FROM refreshes;
  DROP TABLE refreshes;
  ALTER TABLE refreshes_v2 RENAME TO refreshes;
  CREATE INDEX refreshes_outcome ON refreshes (outcome, id);

  CREATE TABLE node_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    relays_published TEXT,                -- of the stored snapshot; NULL before the first one
    refreshed_at TEXT,                    -- last refresh that stored a snapshot or found nothing newer
    refused_at TEXT,                      -- the latest refusal since the stored snapshot, else NULL
    refusal_reason TEXT,
    refusal_message TEXT,
    refused_published TEXT
  );
  INSERT INTO node_state (id, relays_published, refreshed_at)
    SELECT 1, (SELECT max(relays_published) FROM source_state),
           (SELECT finished_at FROM refreshes WHERE outcome <> 'failed' ORDER BY id DESC LIMIT 1);
  `,
  // The broker's leases (broker/lease-store.ts): in the same file, so they survive a restart with the fleet's state.
  `
  CREATE TABLE leases (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,                 -- the client's name from the tokens file
    exchange_id TEXT NOT NULL,
    connection_type TEXT NOT NULL,
    region TEXT NOT NULL,                 -- as resolved (US, NON_US, DE, a pool, a cloud region name)
    proxy_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,          -- ms since the epoch
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX leases_sticky ON leases (client, exchange_id, connection_type, region, expires_at);
  CREATE INDEX leases_expiry ON leases (expires_at);
  `,
  // Content jobs (torrent/job-store.ts): fetched through a gateway route, stored by hash, shared as a torrent.
  `
  CREATE TABLE content_jobs (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,                 -- who asked: a token's client name, or "hmac"
    status TEXT NOT NULL CHECK (status IN ('QUEUED', 'FETCHING', 'PACKAGING', 'SEEDING', 'READY', 'FAILED', 'CANCELLED')),
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    headers TEXT NOT NULL,                -- JSON object, as given (never logged)
    body TEXT,
    route TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    progress INTEGER NOT NULL DEFAULT 0,  -- bytes fetched so far
    content_hash TEXT,                    -- SHA-256 hex of the content, once fetched
    content_size INTEGER,
    content_type TEXT,
    infohash TEXT,                        -- the torrent's, once packaged
    error_message TEXT,
    created_at INTEGER NOT NULL,          -- ms since the epoch
    updated_at INTEGER NOT NULL,
    completed_at INTEGER,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX content_jobs_status ON content_jobs (status, created_at);
  CREATE INDEX content_jobs_content ON content_jobs (content_hash);
  CREATE INDEX content_jobs_client ON content_jobs (client, status);
  `,
];
