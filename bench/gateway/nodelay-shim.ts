/**
 * microsocks 1.0.3 (Debian) copies through a 1 KiB buffer without TCP_NODELAY: a 1 KiB file plus its headers leaves
 * it as two writes, and Nagle holds the second until the receiver's delayed ACK (40 ms on Linux). Every request
 * through it, direct or via any proxy, then took 40+ ms, which would measure microsocks and nothing else. This
 * LD_PRELOAD shim sets TCP_NODELAY on the sockets microsocks accepts and connects; only microsocks gets it.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SOURCE = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
static void nodelay(int fd) { int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); }
int accept(int s, struct sockaddr *a, socklen_t *l) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
  int fd = real(s, a, l);
  if (fd >= 0) nodelay(fd);
  return fd;
}
int connect(int s, const struct sockaddr *a, socklen_t l) {
  static int (*real)(int, const struct sockaddr *, socklen_t);
  if (!real) real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
  nodelay(s);
  return real(s, a, l);
}
`;

/** Compiles the shim into `dir` with cc; null (and microsocks runs as shipped) when no compiler is there. */
export async function buildNodelayShim(dir: string): Promise<string | null> {
  const source = path.join(dir, 'nodelay.c');
  const library = path.join(dir, 'nodelay.so');
  writeFileSync(source, SOURCE);
  try {
    await run('cc', ['-shared', '-fPIC', '-O2', '-o', library, source, '-ldl'], { timeout: 60_000 });
    return library;
  } catch {
    return null;
  }
}
