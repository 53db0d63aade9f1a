/*
 * exchangegen: DNS-like exchanges at a steady rate, for the verdict-latency trial of the
 * live-capture benchmark (scripts/bench-live.mjs). Two roles, each run inside a lab
 * namespace (ip netns exec …); neither sends anywhere but the address it is given or
 * the address a query came from.
 *
 *   exchangegen server PORT UNANSWERED_EVERY
 *       answers each UDP query on PORT with the query itself turned into a response (QR
 *       set, one A record), except every UNANSWERED_EVERY-th (by DNS id): those stay
 *       unanswered, so their timeout fires. Runs until killed.
 *   exchangegen client DST_IP PORT RATE_PER_S SECONDS
 *       sends that many queries a second: id = sequence number (mod 2^16), qname
 *       q<sequence>.bench.lab, type A — every exchange distinct. Reads the responses as
 *       they come (so none is dropped at its socket). Prints "sent N answered M".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A query: 12-byte header, then the name as labels, type A, class IN. Returns its length. */
static int query(unsigned char *b, unsigned long long seq) {
  memset(b, 0, 12);
  b[0] = (unsigned char)(seq >> 8);
  b[1] = (unsigned char)seq;
  b[2] = 0x01; /* RD */
  b[5] = 1;    /* QDCOUNT */
  char label[24];
  int n = snprintf(label, sizeof label, "q%llu", seq);
  int o = 12;
  b[o++] = (unsigned char)n;
  memcpy(b + o, label, (size_t)n);
  o += n;
  static const unsigned char rest[] = {5, 'b', 'e', 'n', 'c', 'h', 3, 'l', 'a', 'b', 0, 0, 1, 0, 1};
  memcpy(b + o, rest, sizeof rest);
  return o + (int)sizeof rest;
}

static int server(int port, int every) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) != 0) {
    perror("exchangegen: bind");
    return 1;
  }
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  printf("listening\n");
  fflush(stdout);
  unsigned char b[1500];
  for (;;) {
    struct sockaddr_in from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(fd, b, sizeof b - 16, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("exchangegen: recvfrom");
      return 1;
    }
    if (n < 12 || (b[2] & 0x80) != 0) continue;
    unsigned id = ((unsigned)b[0] << 8) | b[1];
    if (every > 0 && id % (unsigned)every == 0) continue;
    b[2] |= 0x80; /* QR: a response */
    b[7] = 1;     /* ANCOUNT */
    static const unsigned char answer[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
    memcpy(b + n, answer, sizeof answer);
    sendto(fd, b, (size_t)n + sizeof answer, 0, (struct sockaddr *)&from, fromlen);
  }
}

static int client(const char *ip, int port, double rate, double seconds) {
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, ip, &dst.sin_addr) != 1) {
    fprintf(stderr, "exchangegen: not an IPv4 address: %s\n", ip);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("exchangegen: socket");
    return 1;
  }
  unsigned long long sent = 0, answered = 0;
  unsigned char b[512];
  double start = now();
  for (;;) {
    double elapsed = now() - start;
    if (elapsed >= seconds) break;
    unsigned long long due = (unsigned long long)(elapsed * rate);
    while (sent < due) {
      int n = query(b, sent);
      if (sendto(fd, b, (size_t)n, 0, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != ENOBUFS &&
          errno != EAGAIN && errno != EINTR) {
        perror("exchangegen: sendto");
        return 1;
      }
      sent++;
    }
    while (recv(fd, b, sizeof b, MSG_DONTWAIT) > 0) answered++;
    usleep(200);
  }
  /* the last answers */
  double end = now();
  while (now() - end < 0.2) {
    if (recv(fd, b, sizeof b, MSG_DONTWAIT) > 0) answered++;
    else usleep(1000);
  }
  printf("sent %llu answered %llu\n", sent, answered);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "server") == 0) return server(atoi(argv[2]), atoi(argv[3]));
  if (argc == 6 && strcmp(argv[1], "client") == 0)
    return client(argv[2], atoi(argv[3]), atof(argv[4]), atof(argv[5]));
  fprintf(stderr,
          "usage: %s server PORT UNANSWERED_EVERY | client DST_IP PORT RATE_PER_S SECONDS\n",
          argv[0]);
  return 2;
}
