/*
 * trafficgen: UDP packets at a steady rate, for the live-capture benchmark
 * (scripts/bench-live.mjs). sendmmsg() in batches, paced against CLOCK_MONOTONIC,
 * so the rate holds from a few thousand packets/s up to what the machine can send.
 *
 *   trafficgen DST_IP PORT RATE_PPS SECONDS [PAYLOAD_BYTES [THREADS]]
 *
 * THREADS senders (default 1), each with its own socket (so its own source port and
 * its own CPU's softirq doing the forwarding behind it), each paced to RATE/THREADS.
 * Every packet carries a distinct sequence number in its first 8 payload bytes.
 *
 * Prints "sent N elapsed S" on stdout (N summed over the threads; S from the first
 * packet to the last thread's end), and per thread "thread I sent N" on stderr.
 * Runs inside a lab namespace (ip netns exec …); it only sends to the address given.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_THREADS 16

static struct sockaddr_in dst;
static double rate_per_thread, seconds, start;
static int size, threads;

struct sender {
  pthread_t tid;
  int index;
  unsigned long long sent;
  int error;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *send_loop(void *arg) {
  struct sender *s = arg;
  /* Not connected: the ICMP port-unreachable a sink without listener sends back
     would otherwise fail the next send with ECONNREFUSED. */
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("trafficgen: socket");
    s->error = 1;
    return NULL;
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

  static __thread char payload[BATCH][1400];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload[i];
    iov[i].iov_len = (size_t)size;
    msgs[i].msg_hdr.msg_name = &dst;
    msgs[i].msg_hdr.msg_namelen = sizeof dst;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  for (;;) {
    double elapsed = now() - start;
    if (elapsed >= seconds) break;
    unsigned long long due = (unsigned long long)(elapsed * rate_per_thread);
    if (s->sent >= due) {
      usleep(50);
      continue;
    }
    unsigned long long want = due - s->sent;
    int n = want > BATCH ? BATCH : (int)want;
    for (int i = 0; i < n; i++) {
      /* thread index in the top byte, then a sequence number: each packet distinct */
      unsigned long long seq = ((unsigned long long)s->index << 56) | (s->sent + (unsigned long long)i);
      memcpy(payload[i], &seq, sizeof seq);
    }
    int r = sendmmsg(fd, msgs, (unsigned int)n, 0);
    if (r < 0) {
      if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
      perror("trafficgen: sendmmsg");
      s->error = 1;
      break;
    }
    s->sent += (unsigned long long)r;
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s DST_IP PORT RATE_PPS SECONDS [PAYLOAD_BYTES [THREADS]]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[2]);
  double rate = atof(argv[3]);
  seconds = atof(argv[4]);
  size = argc > 5 ? atoi(argv[5]) : 64;
  threads = argc > 6 ? atoi(argv[6]) : 1;
  if (port <= 0 || port > 65535 || rate <= 0 || seconds <= 0 || size < 8 || size > 1400 || threads < 1 ||
      threads > MAX_THREADS) {
    fprintf(stderr, "trafficgen: bad arguments\n");
    return 2;
  }
  memset(&dst, 0, sizeof dst);
  dst.sin_family = AF_INET;
  dst.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
    fprintf(stderr, "trafficgen: not an IPv4 address: %s\n", argv[1]);
    return 2;
  }
  rate_per_thread = rate / threads;

  struct sender senders[MAX_THREADS];
  memset(senders, 0, sizeof senders);
  start = now();
  for (int i = 0; i < threads; i++) {
    senders[i].index = i;
    if (pthread_create(&senders[i].tid, NULL, send_loop, &senders[i]) != 0) {
      fprintf(stderr, "trafficgen: cannot start thread %d\n", i);
      return 1;
    }
  }
  unsigned long long sent = 0;
  int error = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(senders[i].tid, NULL);
    sent += senders[i].sent;
    error |= senders[i].error;
    fprintf(stderr, "thread %d sent %llu\n", i, senders[i].sent);
  }
  printf("sent %llu elapsed %.3f\n", sent, now() - start);
  return error;
}
