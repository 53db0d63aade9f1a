/*
 * trafficgen: UDP packets at a steady rate, for the live-capture benchmark
 * (scripts/bench-live.mjs). sendmmsg() in batches, paced against CLOCK_MONOTONIC,
 * so the rate holds from a few thousand to a few hundred thousand packets/s.
 *
 *   trafficgen DST_IP PORT RATE_PPS SECONDS [PAYLOAD_BYTES]
 *
 * Prints "sent N elapsed S" on stdout. Runs inside a lab namespace
 * (ip netns exec …); it only ever sends to the address it is given.
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

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s DST_IP PORT RATE_PPS SECONDS [PAYLOAD_BYTES]\n", argv[0]);
    return 2;
  }
  const char *dst = argv[1];
  int port = atoi(argv[2]);
  double rate = atof(argv[3]);
  double seconds = atof(argv[4]);
  int size = argc > 5 ? atoi(argv[5]) : 64;
  if (port <= 0 || port > 65535 || rate <= 0 || seconds <= 0 || size < 8 || size > 1400) {
    fprintf(stderr, "trafficgen: bad arguments\n");
    return 2;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, dst, &sa.sin_addr) != 1) {
    fprintf(stderr, "trafficgen: not an IPv4 address: %s\n", dst);
    return 2;
  }
  /* Not connected: the ICMP port-unreachable a sink without listener sends back
     would otherwise fail the next send with ECONNREFUSED. */
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("trafficgen: socket");
    return 1;
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

  static char payload[BATCH][1400];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload[i];
    iov[i].iov_len = (size_t)size;
    msgs[i].msg_hdr.msg_name = &sa;
    msgs[i].msg_hdr.msg_namelen = sizeof sa;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long sent = 0;
  double start = now();
  for (;;) {
    double elapsed = now() - start;
    if (elapsed >= seconds) break;
    unsigned long long due = (unsigned long long)(elapsed * rate);
    if (sent >= due) {
      usleep(50);
      continue;
    }
    unsigned long long want = due - sent;
    int n = want > BATCH ? BATCH : (int)want;
    for (int i = 0; i < n; i++) {
      /* a sequence number in every packet: each one distinct */
      unsigned long long seq = sent + (unsigned long long)i;
      memcpy(payload[i], &seq, sizeof seq);
    }
    int r = sendmmsg(fd, msgs, (unsigned int)n, 0);
    if (r < 0) {
      if (errno == ENOBUFS || errno == EAGAIN) continue;
      perror("trafficgen: sendmmsg");
      return 1;
    }
    sent += (unsigned long long)r;
  }
  printf("sent %llu elapsed %.3f\n", sent, now() - start);
  return 0;
}
