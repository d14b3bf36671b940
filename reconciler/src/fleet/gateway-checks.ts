import { credentialIssue } from './credential-check.js';
import { DEFAULT_BIND, DEFAULT_GATEWAY_LISTEN } from './fleet-types.js';
import { addressesOverlap, isLoopbackAddress, parseEndpoint } from './ip-address.js';
import type { RawFleet, RawGateway } from './raw-fleet.js';
import { checkRouteNames } from './route-name-checks.js';
import type { SemanticContext, SemanticResult } from './semantic-checks.js';
import { parseUpstreamUrl } from './upstream-url.js';

/**
 * The checks of fleet.yaml `gateway:` a JSON Schema cannot express: addresses, credentials, upstream URLs,
 * and (through checkRouteNames, also for a fleet without the section) that every route name means one thing.
 */
export function checkGateway(raw: RawFleet, context: SemanticContext, result: SemanticResult): void {
  checkRouteNames(raw, context, result);
  const gateway = raw.gateway;
  if (!gateway) return;
  checkListen(raw, gateway, context, result);
  if (gateway.token !== undefined) {
    const issue = credentialIssue(['gateway', 'token'], gateway.token, 'token', context);
    if (issue) result.issues.push(issue);
  }
  (gateway.upstreams ?? []).forEach((upstream, i) => {
    const urlPath = ['gateway', 'upstreams', i, 'url'];
    const url = parseUpstreamUrl(upstream.url);
    if (!url.ok) result.issues.push(context.document.issueAt(urlPath, url.problem));
    if (upstream.auth !== undefined) {
      const issue = credentialIssue(['gateway', 'upstreams', i, 'auth'], upstream.auth, 'user-password', context);
      if (issue) result.issues.push(issue);
    }
  });
  checkCorporate(gateway, context, result);
}

function checkListen(raw: RawFleet, gateway: RawGateway, context: SemanticContext, result: SemanticResult): void {
  const { document, origins } = context;
  const path = ['gateway', 'listen'];
  const text = gateway.listen ?? DEFAULT_GATEWAY_LISTEN;
  const listen = parseEndpoint(text);
  if (!listen) {
    result.issues.push(
      document.issueAt(
        path,
        `${origins.show(path, text)} is not an IP address and port (1-65535): write 127.0.0.1:8888 or [::1]:8888`,
      ),
    );
    return;
  }
  if (gateway.token === undefined && !isLoopbackAddress(listen.address)) {
    result.issues.push(
      document.issueAt(
        path,
        `${origins.show(path, text)} is beyond loopback, so anyone who reaches it could use every route: set token: "\${GATEWAY_TOKEN}" (clients send it as the proxy password) or listen on 127.0.0.1`,
      ),
    );
  }
  raw.pools.some((pool, i) => {
    const taken = pool.count > 0 && listen.port >= pool.basePort && listen.port < pool.basePort + pool.count;
    if (!taken || !addressesOverlap(listen.address, pool.bind ?? DEFAULT_BIND)) return false;
    result.issues.push(
      document.issueAt(
        path,
        `port ${listen.port} is taken by proxy ${listen.port - pool.basePort} of pool ${origins.show(['pools', i, 'name'], pool.name)} (pools[${i}]); pick another port`,
      ),
    );
    return true;
  });
}

function checkCorporate(gateway: RawGateway, context: SemanticContext, result: SemanticResult): void {
  const corporate = gateway.corporate;
  if (!corporate) return;
  const { document, origins } = context;
  const path = ['gateway', 'corporate', 'address'];
  if (!parseEndpoint(corporate.address)) {
    result.issues.push(
      document.issueAt(
        path,
        `${origins.show(path, corporate.address)} is not an IP address and port (1-65535): write IPV4:PORT or [IPV6]:PORT (no host names: the gateway resolves none)`,
      ),
    );
  }
  if (corporate.auth !== undefined) {
    const issue = credentialIssue(['gateway', 'corporate', 'auth'], corporate.auth, 'user-password', context);
    if (issue) result.issues.push(issue);
  }
  if ((gateway.upstreams ?? []).length === 0) {
    result.warnings.push(
      document.issueAt(
        ['gateway', 'corporate'],
        'corporate has no effect without upstreams: only hops to an upstream leave this machine (tor dials out through tor.httpsProxy)',
      ),
    );
  }
}
