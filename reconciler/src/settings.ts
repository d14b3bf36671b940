import { readBrokerSettings, type BrokerSettings } from './broker/broker-settings.js';
import { readTorrentSettings, type TorrentSettings } from './torrent/torrent-settings.js';
import { parseCountSetting, parseDurationSetting, parseShareSetting } from './setting-values.js';
import { ConfigError } from './errors.js';
import { parseListenSetting, requireTokenBeyondLoopback } from './listen-address.js';
import { isLogLevel, type LogLevel } from './logger.js';
import { isRuntimeName, RUNTIME_NAMES, type RuntimeName } from './runtime/runtime-names.js';

/** Settings from the environment (flags override some of them per command). Every one has a working default. */
export interface Settings {
  readonly fleetRepo: string | null;
  readonly fleetBranch: string;
  readonly fleetPath: string;
  readonly fleetFile: string | null;
  readonly nodeSource: 'onionoo' | 'consensus';
  readonly onionooUrl: string;
  readonly consensusUrl: string | null;
  readonly geoipFile: string | null;
  readonly db: string;
  /** Host directory for proxies' torrc files and data directories, and the fleet repository clone. */
  readonly stateDir: string;
  /** A key of runtime/runtime-registry.ts RUNTIMES. */
  readonly runtime: RuntimeName;
  /** Names this reconciler's proxies (label torfleet.instance) so several can share one Docker engine. */
  readonly instance: string;
  /** Node data whose relays_published is older than this is stale. */
  readonly nodesMaxAgeMs: number;
  /** Largest share (0-1) of a geo category's eligible exits one node snapshot may remove; beyond, it is refused. */
  readonly nodesMaxDrop: number;
  /** `run`: how often the node database is refreshed. */
  readonly nodesRefreshIntervalMs: number;
  /** `run`: how often the fleet repository is fetched. */
  readonly fetchIntervalMs: number;
  /** `run`: a pass at least this often, whatever happens. */
  readonly resyncIntervalMs: number;
  readonly logLevel: LogLevel;
  /** `run`: where the read-only API listens. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Bearer token the API requires; mandatory when it listens beyond loopback. */
  readonly apiToken: string | null;
  /** `run`: the egress check URL fetched through each proxy, and how often and how patiently. */
  readonly probeUrl: string;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  /** How long one runtime call may take (a Docker engine call, starting or stopping a tor); creates get twice this. */
  readonly runtimeTimeoutMs: number;
  /** How long a git command on the fleet repository may go without output before it is ended. */
  readonly gitTimeoutMs: number;
  /** `run`: a reconcile pass still running after this is abandoned, and the controller goes on. */
  readonly passTimeoutMs: number;
  /** `run`: how often every running proxy's tor is asked for its health (ControlSocket). */
  readonly healthIntervalMs: number;
  /** `run`: a tor whose bootstrap makes no progress for this long is restarted (network enabled only). */
  readonly bootstrapTimeoutMs: number;
  /** `run`: at most this many such restarts per proxy per hour; then it is left alone and reported. */
  readonly bootstrapRestartsPerHour: number;
  /** `run`: the broker's listener, tokens and TLS; null (off) without TORFLEET_BROKER_TOKENS_FILE. */
  readonly broker: BrokerSettings | null;
  /** `run`: content jobs (fetch through the fleet, share as a torrent); null (off) without TORFLEET_TORRENT_SECRET. */
  readonly torrent: TorrentSettings | null;
}

export const DEFAULT_ONIONOO_URL = 'https://onionoo.torproject.org';

type Env = Readonly<Record<string, string | undefined>>;

export function readSettings(env: Env): Settings {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const nodeSource = get('TORFLEET_NODE_SOURCE') ?? 'onionoo';
  if (nodeSource !== 'onionoo' && nodeSource !== 'consensus') {
    throw new ConfigError(`TORFLEET_NODE_SOURCE is "${nodeSource}"; use onionoo or consensus`);
  }
  const onionooUrl = get('TORFLEET_ONIONOO_URL') ?? DEFAULT_ONIONOO_URL;
  if (!/^https?:\/\/[^\s/]+/i.test(onionooUrl)) {
    throw new ConfigError(`TORFLEET_ONIONOO_URL is "${onionooUrl}"; use an http(s) URL such as ${DEFAULT_ONIONOO_URL}`);
  }
  const runtime = get('TORFLEET_RUNTIME') ?? 'docker';
  if (!isRuntimeName(runtime)) {
    throw new ConfigError(`TORFLEET_RUNTIME is "${runtime}"; use one of ${RUNTIME_NAMES.join(', ')}`);
  }
  const instance = get('TORFLEET_INSTANCE') ?? 'default';
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(instance)) {
    throw new ConfigError(`TORFLEET_INSTANCE is "${instance}"; use lowercase letters, digits and hyphens (at most 31)`);
  }
  const listen = parseListenSetting('TORFLEET_LISTEN', get('TORFLEET_LISTEN') ?? '127.0.0.1:8080');
  const apiToken = get('TORFLEET_API_TOKEN') ?? null;
  requireTokenBeyondLoopback('TORFLEET_LISTEN', listen, 'TORFLEET_API_TOKEN', apiToken);
  const probeUrl = get('TORFLEET_PROBE_URL') ?? 'https://check.torproject.org/api/ip';
  if (!/^https?:\/\/[^\s/]+/i.test(probeUrl))
    throw new ConfigError(`TORFLEET_PROBE_URL is "${probeUrl}"; use an http(s) URL`);
  const logLevel = get('TORFLEET_LOG_LEVEL') ?? 'info';
  if (!isLogLevel(logLevel))
    throw new ConfigError(`TORFLEET_LOG_LEVEL is "${logLevel}"; use debug, info, warn or error`);
  return {
    fleetRepo: get('TORFLEET_FLEET_REPO') ?? null,
    fleetBranch: get('TORFLEET_FLEET_BRANCH') ?? 'main',
    fleetPath: get('TORFLEET_FLEET_PATH') ?? 'fleet/fleet.yaml',
    fleetFile: get('TORFLEET_FLEET_FILE') ?? null,
    nodeSource,
    onionooUrl,
    consensusUrl: get('TORFLEET_CONSENSUS_URL') ?? null,
    geoipFile: get('TORFLEET_GEOIP_FILE') ?? null,
    db: get('TORFLEET_DB') ?? 'data/torfleet.db',
    stateDir: get('TORFLEET_STATE_DIR') ?? 'data',
    runtime,
    instance,
    nodesMaxAgeMs: parseDurationSetting('TORFLEET_NODES_MAX_AGE', get('TORFLEET_NODES_MAX_AGE') ?? '3h'),
    nodesMaxDrop: parseShareSetting('TORFLEET_NODES_MAX_DROP', get('TORFLEET_NODES_MAX_DROP') ?? '0.5'),
    nodesRefreshIntervalMs: parseDurationSetting(
      'TORFLEET_NODES_REFRESH_INTERVAL',
      get('TORFLEET_NODES_REFRESH_INTERVAL') ?? '1h',
    ),
    fetchIntervalMs: parseDurationSetting('TORFLEET_FETCH_INTERVAL', get('TORFLEET_FETCH_INTERVAL') ?? '30s'),
    resyncIntervalMs: parseDurationSetting('TORFLEET_RESYNC_INTERVAL', get('TORFLEET_RESYNC_INTERVAL') ?? '60s'),
    logLevel,
    listen,
    apiToken,
    probeUrl,
    probeIntervalMs: parseDurationSetting('TORFLEET_PROBE_INTERVAL', get('TORFLEET_PROBE_INTERVAL') ?? '60s'),
    probeTimeoutMs: parseDurationSetting('TORFLEET_PROBE_TIMEOUT', get('TORFLEET_PROBE_TIMEOUT') ?? '15s'),
    runtimeTimeoutMs: parseDurationSetting('TORFLEET_RUNTIME_TIMEOUT', get('TORFLEET_RUNTIME_TIMEOUT') ?? '30s'),
    gitTimeoutMs: parseDurationSetting('TORFLEET_GIT_TIMEOUT', get('TORFLEET_GIT_TIMEOUT') ?? '60s'),
    passTimeoutMs: parseDurationSetting('TORFLEET_PASS_TIMEOUT', get('TORFLEET_PASS_TIMEOUT') ?? '10m'),
    healthIntervalMs: parseDurationSetting('TORFLEET_HEALTH_INTERVAL', get('TORFLEET_HEALTH_INTERVAL') ?? '15s'),
    bootstrapTimeoutMs: parseDurationSetting('TORFLEET_BOOTSTRAP_TIMEOUT', get('TORFLEET_BOOTSTRAP_TIMEOUT') ?? '5m'),
    bootstrapRestartsPerHour: parseCountSetting(
      'TORFLEET_BOOTSTRAP_RESTARTS',
      get('TORFLEET_BOOTSTRAP_RESTARTS') ?? '3',
      100,
    ),
    broker: readBrokerSettings(get),
    torrent: readTorrentSettings(get),
  };
}
