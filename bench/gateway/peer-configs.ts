/** Config files of the bench's peers, each pointing at the one microsocks in front of the one nginx. */

/** nginx in the foreground, one process, keep-alive on (long enough to hold 1,000 idle tunnels), no access log. */
export function nginxConfig(dir: string, port: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
  }
}
`;
}

/**
 * privoxy as a pure forwarder: toggle 0 (no filtering), no actions or filter files, no logfile and no debug flags.
 * forward-socks5 (not socks5t: its optimistic data arrives with the SOCKS request, which microsocks drops, so every
 * plain-HTTP request hung until socket-timeout). keep-alive-timeout 5, socket-timeout 300 and tolerate-pipelining 1
 * are the values of Debian's shipped config; max-client-connections raised from 128 for the 1,000-tunnel point.
 */
export function privoxyConfig(port: number, socksPort: number): string {
  return `confdir /etc/privoxy
listen-address 127.0.0.1:${port}
toggle 0
enable-remote-toggle 0
enable-edit-actions 0
forward-socks5 / 127.0.0.1:${socksPort} .
keep-alive-timeout 5
socket-timeout 300
tolerate-pipelining 1
max-client-connections 4096
`;
}

/** tinyproxy in the foreground (-d), upstream SOCKS5, logging at Critical only; MaxClients raised from 100 for 1,000 tunnels. */
export function tinyproxyConfig(port: number, socksPort: number): string {
  return `Port ${port}
Listen 127.0.0.1
Timeout 600
MaxClients 4096
LogLevel Critical
Upstream socks5 127.0.0.1:${socksPort}
`;
}

/** The gateway's fleet: no pools, one upstream (the microsocks), the default route to it. */
export function gatewayFleet(port: number, socksPort: number): string {
  return `apiVersion: torfleet/v1
kind: Fleet
pools: []
gateway:
  listen: 127.0.0.1:${port}
  default: socks
  upstreams:
    - name: socks
      url: socks5://127.0.0.1:${socksPort}
`;
}
