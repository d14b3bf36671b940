#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
/* Binds an unbound IPv4 TCP socket connecting to 127/8 to $TORFLEET_BIND_ADDRESS first, so a test server sees which
   exit relay a connection came from (tor skips OutboundBindAddress for loopback destinations). */
int connect(int fd, const struct sockaddr *address, socklen_t length) {
  static int (*real_connect)(int, const struct sockaddr *, socklen_t);
  if (!real_connect) real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
  const char *bind_to = getenv("TORFLEET_BIND_ADDRESS");
  if (bind_to && address && address->sa_family == AF_INET) {
    const struct sockaddr_in *target = (const struct sockaddr_in *)address;
    int type = 0;
    socklen_t type_length = sizeof type;
    struct sockaddr_in local;
    socklen_t local_length = sizeof local;
    if ((ntohl(target->sin_addr.s_addr) >> 24) == 127 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 &&
        type == SOCK_STREAM && getsockname(fd, (struct sockaddr *)&local, &local_length) == 0 && local.sin_port == 0) {
      struct sockaddr_in source;
      memset(&source, 0, sizeof source);
      source.sin_family = AF_INET;
      inet_pton(AF_INET, bind_to, &source.sin_addr);
      bind(fd, (struct sockaddr *)&source, sizeof source);
    }
  }
  return real_connect(fd, address, length);
}
