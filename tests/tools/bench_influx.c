/* SPDX-License-Identifier: MIT */
/* tests/tools/bench_influx.c - make bench: the influx output's throughput.
 * The line protocol writer alone (a 16-cell pack's point, lines a second),
 * then the writer and the pusher (gateway/influx/push.c through libcurl's
 * multi interface on a libev loop) draining a queue of 100000 points to a
 * local receiver: a forked child that answers every POST 204 at once
 * (HTTP/1.1, kept alive) and counts the lines it got, so that the figure
 * is bmsgw's side.  Points a second, CPU of the pusher per 1000 points. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../gateway/core/curlev.h"
#include "../../gateway/influx/influx_int.h"
#include "../../gateway/influx/line.h"

#define NPOINTS 100000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void pack(struct bms_snapshot *s, int i)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS;
	s->voltage = 53.21f + (float)(i % 7) * 0.01f;
	s->current = -12.5f;
	s->power = s->voltage * s->current;
	s->soc = 87.5f;
	s->soh = 99;
	s->remain_ah = 245.125f;
	s->full_ah = 280;
	s->cycles = 123;
	s->mos_temp_c = 31.5f;
	s->ncells = 16;
	for (int k = 0; k < 16; k++)
		s->cell_mv[k] = (uint16_t)(3320 + k + i % 5);
	s->ntemps = 4;
	for (int k = 0; k < 4; k++)
		s->temp_c[k] = 21.5f + (float)k;
}

static size_t encode(char *buf, size_t cap, int i)
{
	struct bms_snapshot s;
	pack(&s, i);
	struct ix_line l;
	ix_line_start(&l, buf, cap, "bmsgw", "cabin", "rack1");
	ix_line_snapshot(&l, &s, NULL);
	return ix_line_end(&l, 1764130000LL + i);
}

static void bench_encoder(void)
{
	char buf[IX_LINE_MAX];
	size_t bytes = 0;
	int n = 200000;
	double t0 = now_s(), c0 = cpu_s();
	for (int i = 0; i < n; i++)
		bytes += encode(buf, sizeof(buf), i);
	double t = now_s() - t0, c = cpu_s() - c0;
	printf("influx encoder: %.0f lines/s (a 16-cell pack, %zu bytes a line; CPU %.2f us a line)\n", n / t,
	       bytes / (size_t)n, c * 1e6 / n);
}

/* The receiver: every POST answered 204; the lines it got written to fd. */
static void receiver(int lfd, int out)
{
	long lines = 0;
	static char buf[8 << 20];
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			break;
		size_t have = 0;
		for (;;) {
			char *end = have ? memmem(buf, have, "\r\n\r\n", 4) : NULL;
			if (!end) {
				ssize_t r = read(fd, buf + have, sizeof(buf) - have);
				if (r <= 0)
					break;
				have += (size_t)r;
				continue;
			}
			size_t hl = (size_t)(end + 4 - buf);
			char *cl = strcasestr(buf, "Content-Length:");
			size_t body = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
			while (have < hl + body) {
				ssize_t r = read(fd, buf + have, sizeof(buf) - have);
				if (r <= 0)
					goto done;
				have += (size_t)r;
			}
			for (size_t k = hl; k < hl + body; k++)
				lines += buf[k] == '\n';
			memmove(buf, buf + hl + body, have - hl - body);
			have -= hl + body;
			const char ok[] = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
			if (write(fd, ok, sizeof(ok) - 1) < 0)
				break;
			if (write(out, &lines, sizeof(lines)) < 0)
				break;
		}
done:
		close(fd);
	}
	_exit(0);
}

static void bench_push(int batch)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0), p[2];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 8) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &al) < 0 || pipe(p) < 0) {
		perror("bench_influx: receiver");
		exit(1);
	}
	pid_t child = fork();
	if (child == 0) {
		close(p[0]);
		receiver(lfd, p[1]);
	}
	close(lfd);
	close(p[1]);
	struct conf_influx c;
	memset(&c, 0, sizeof(c));
	snprintf(c.url.bare, sizeof(c.url.bare), "http://127.0.0.1:%d", ntohs(a.sin_port));
	snprintf(c.url.text, sizeof(c.url.text), "%s", c.url.bare);
	snprintf(c.database, sizeof(c.database), "bench");
	c.version = 1;
	c.interval = 10;
	c.timeout = 30;
	c.batch = batch;
	c.queue = NPOINTS;
	struct ev_loop *loop = ev_default_loop(0);
	struct ix_push *x = ix_push_new(loop, &c);
	if (!x) {
		fprintf(stderr, "bench_influx: no pusher\n");
		exit(1);
	}
	double t0 = now_s(), c0 = cpu_s();
	char buf[IX_LINE_MAX];
	for (int i = 0; i < NPOINTS; i++) {
		size_t n = encode(buf, sizeof(buf), i);
		ix_push_queue(x, buf, n);
	}
	ix_push_kick(x);
	while (x->len && x->ok)
		ev_run(loop, EVRUN_ONCE);
	double t = now_s() - t0, cpu = cpu_s() - c0;
	unsigned long sent = x->sent;
	ix_push_free(x);
	long got = 0, v; /* the receiver's count after each answer: up to the last */
	while (got < (long)sent && read(p[0], &v, sizeof(v)) == (ssize_t)sizeof(v))
		got = v;
	kill(child, SIGTERM);
	close(p[0]);
	waitpid(child, NULL, 0);
	printf("influx push (batch %d): %lu points in %.2f s, %.0f points/s to a local receiver (it counted %ld); "
	       "CPU %.1f ms per 1000 points\n", batch, sent, t, sent / t, got, cpu * 1e6 / NPOINTS);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	bench_encoder();
	bench_push(1000);
	bench_push(5000);
	return 0;
}
