/*
 * tor-healthcheck: the proxies' Docker HEALTHCHECK. Asks the tor in this container, through the
 * ControlSocket and cookie in its data directory, for its bootstrap phase; exits 0 and prints it when
 * tor answers, 1 otherwise. Static, no shell needed (the registry-free image has none).
 * usage: tor-healthcheck [DATA_DIRECTORY]   (default /var/lib/tor)
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/var/lib/tor";
  char path[512];
  unsigned char cookie[32];
  snprintf(path, sizeof path, "%s/control_auth_cookie", dir);
  FILE *file = fopen(path, "rb");
  if (!file || fread(cookie, 1, sizeof cookie, file) != sizeof cookie) {
    fprintf(stderr, "tor-healthcheck: cannot read %s (tor not started?)\n", path);
    return 1;
  }
  fclose(file);

  int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  snprintf(address.sun_path, sizeof address.sun_path, "%s/control", dir);
  struct timeval timeout = {3, 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (sock < 0 || connect(sock, (struct sockaddr *)&address, sizeof address) != 0) {
    fprintf(stderr, "tor-healthcheck: cannot connect to %s\n", address.sun_path);
    return 1;
  }

  char command[256];
  int length = snprintf(command, sizeof command, "AUTHENTICATE ");
  for (size_t i = 0; i < sizeof cookie; i++) length += snprintf(command + length, sizeof command - length, "%02x", cookie[i]);
  length += snprintf(command + length, sizeof command - length, "\r\nGETINFO status/bootstrap-phase\r\nQUIT\r\n");
  if (write(sock, command, (size_t)length) != length) {
    fprintf(stderr, "tor-healthcheck: cannot write to the control socket\n");
    return 1;
  }

  char reply[4096];
  size_t used = 0;
  ssize_t got;
  while (used < sizeof reply - 1 && (got = read(sock, reply + used, sizeof reply - 1 - used)) > 0) used += (size_t)got;
  reply[used] = '\0';
  close(sock);
  char *phase = strstr(reply, "250-status/bootstrap-phase=");
  if (!phase) {
    fprintf(stderr, "tor-healthcheck: unexpected answer: %s\n", reply);
    return 1;
  }
  char *end = strstr(phase, "\r\n");
  if (end) *end = '\0';
  puts(phase + 4);
  return 0;
}
