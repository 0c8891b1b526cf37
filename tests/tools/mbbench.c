/* tests/tools/mbbench.c - Modbus TCP load generator for `make bench`.
 *   mbbench HOST PORT UNIT ADDR COUNT CLIENTS SECONDS [RATE]
 * CLIENTS connections each send FC3 requests back to back (one outstanding
 * per connection) for SECONDS; prints requests/s and latency percentiles.
 * With RATE, each connection sends RATE requests a second instead (a client
 * like Home Assistant's, whose latency is measured rather than the
 * server's throughput). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 512
#define MAXLAT 4000000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: mbbench HOST PORT UNIT ADDR COUNT CLIENTS SECONDS [RATE]\n");
		return 2;
	}
	int unit = atoi(argv[3]), addr = atoi(argv[4]), count = atoi(argv[5]);
	int nc = atoi(argv[6]);
	double secs = atof(argv[7]);
	double period = argc == 9 && atof(argv[8]) > 0 ? 1.0 / atof(argv[8]) : 0;
	if (nc < 1 || nc > MAXC)
		return 2;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	struct pollfd pf[MAXC];
	double sent[MAXC], due[MAXC];
	size_t got[MAXC];
	int idle[MAXC];
	unsigned char req[12] = {0, 1, 0, 0, 0, 6, (unsigned char)unit, 3, (unsigned char)(addr >> 8),
				 (unsigned char)addr, (unsigned char)(count >> 8), (unsigned char)count};
	size_t rlen = 9 + 2 * (size_t)count;
	float *lat = malloc(sizeof(float) * MAXLAT);
	long n = 0, errors = 0;
	for (int i = 0; i < nc; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("connect");
			return 1;
		}
		pf[i].fd = fd;
		pf[i].events = POLLIN;
		sent[i] = now();
		got[i] = 0;
		idle[i] = 0;
		if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req))
			return 1;
	}
	double t0 = now(), end = t0 + secs;
	unsigned char buf[512];
	while (now() < end) {
		int wait_ms = 100;
		if (period > 0) {
			double t = now();
			for (int i = 0; i < nc; i++) {
				if (!idle[i])
					continue;
				if (due[i] <= t) {
					idle[i] = 0;
					sent[i] = t;
					if (write(pf[i].fd, req, sizeof(req)) != (ssize_t)sizeof(req))
						return 1;
				} else if ((due[i] - t) * 1000 < wait_ms) {
					wait_ms = (int)((due[i] - t) * 1000);
				}
			}
		}
		if (poll(pf, (nfds_t)nc, wait_ms) <= 0)
			continue;
		for (int i = 0; i < nc; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			ssize_t r = read(pf[i].fd, buf, sizeof(buf));
			if (r <= 0) {
				fprintf(stderr, "connection %d closed\n", i);
				return 1;
			}
			if (got[i] == 0 && r >= 8 && (buf[7] & 0x80))
				errors++;
			got[i] += (size_t)r;
			if (got[i] >= rlen || (buf[7] & 0x80)) {
				double t = now();
				if (n < MAXLAT)
					lat[n] = (float)(t - sent[i]);
				n++;
				got[i] = 0;
				if (period > 0) {
					idle[i] = 1;
					due[i] = sent[i] + period;
					continue;
				}
				sent[i] = t;
				if (write(pf[i].fd, req, sizeof(req)) != (ssize_t)sizeof(req))
					return 1;
			}
		}
	}
	double el = now() - t0;
	long m = n < MAXLAT ? n : MAXLAT;
	qsort(lat, (size_t)m, sizeof(float), cmp);
	printf("clients %d, %ld requests of %d registers in %.2f s: %.0f requests/s, "
	       "latency p50 %.3f ms p99 %.3f ms max %.3f ms, exceptions %ld\n",
	       nc, n, count, el, n / el, m ? lat[m / 2] * 1e3 : 0, m ? lat[m * 99 / 100] * 1e3 : 0,
	       m ? lat[m - 1] * 1e3 : 0, errors);
	free(lat);
	return 0;
}
