/* SPDX-License-Identifier: MIT */
/* tests/tools/mbbench.c - Modbus TCP load generator for `make bench`.
 *   mbbench [-f FC] HOST PORT UNIT ADDR COUNT CLIENTS SECONDS [RATE]
 * CLIENTS connections each send FC3 requests (-f 4: FC4) back to back (one outstanding
 * per connection) for SECONDS; prints requests/s and latency percentiles.
 * With RATE, each connection sends RATE requests a second instead (a client
 * like Home Assistant's, whose latency is measured rather than the
 * server's throughput).
 *   mbbench HOST PORT1,PORT2 UNIT ADDR COUNT CLIENTS SECONDS
 * Two servers side by side: CLIENTS connections to each, loaded in turn for
 * SLICE seconds at a time (each slice drains before the next starts), so
 * that whatever else the machine does falls on both alike; a line for each
 * port, then the ratio of their requests/s (PORT2 / PORT1) and the spread of
 * the ratios of successive slice pairs.
 *   mbbench -t DIR ...
 * Modbus/TCP Security (port 802): each connection in TLS with the client
 * certificate DIR/client.pem (key DIR/client.key), the server's checked
 * against DIR/ca.pem; the handshakes are done before the clock starts.
 * The client is GnuTLS, as bmsgw's server, and reads ahead as it does (a
 * record in one read(2), not its header and body in two), as a plain
 * connection reads an answer: on a machine both share, the client's own
 * cost weighs in the ratio, and OpenSSL 3.0's record layer costs about
 * twice GnuTLS's (0.9 against 0.45 us a request).
 *   mbbench -T DIR HOST PORT1,PORT2 ...
 * The two-server mode with TLS on PORT2 only: plain Modbus TCP against
 * Modbus/TCP Security under the same load, the ratio TLS / plain.
 * Each line also says the CPU this client took while it loaded that server
 * (user + system, in % of one core, and per request): it shares the
 * machine's cores with the server it measures.
 *   mbbench -p PID ...  (before the others)
 * The server's CPU too: its thread PID's time on a CPU (/proc/PID/schedstat,
 * in ns), per request of each port; with two servers side by side, both
 * are the one process PID (bmsgw serves 502 and 802 on its loop), its
 * time split by the slices; then the CPU per request of both sides,
 * TLS / plain, and the client's share of it: a measure of the cost that
 * the machine's other load disturbs less than requests/s. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define MAXC 512
#define MAXLAT 4000000
#define SLICE 0.2
#define MAXSLICES 4096

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

#define MAXFD 4096
static gnutls_certificate_credentials_t tls; /* -t: Modbus/TCP Security */
/* a TLS connection by fd: its session and what it read ahead */
static struct tconn {
	gnutls_session_t s;
	int fd;
	size_t pos, len;
	unsigned char ra[4096];
} *tls_of[MAXFD];

/* GnuTLS's reads: from the bytes read ahead, one read(2) when none are left. */
static ssize_t tls_pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
	struct tconn *t = p;
	if (t->pos == t->len) {
		ssize_t k = read(t->fd, t->ra, sizeof(t->ra));
		if (k <= 0)
			return k;
		t->pos = 0;
		t->len = (size_t)k;
	}
	if (n > t->len - t->pos)
		n = t->len - t->pos;
	memcpy(buf, t->ra + t->pos, n);
	t->pos += n;
	return (ssize_t)n;
}

static ssize_t tls_push(gnutls_transport_ptr_t p, const void *buf, size_t n)
{
	return write(((struct tconn *)p)->fd, buf, n);
}

/* What one readiness of fd gives: on TLS every record already read (the
 * socket does not signal what was taken already). */
static ssize_t conn_read(int fd, void *buf, size_t n)
{
	struct tconn *t = tls_of[fd];
	if (!t)
		return read(fd, buf, n);
	ssize_t r = gnutls_record_recv(t->s, buf, n);
	while (r > 0 && (size_t)r < n && (t->pos < t->len || gnutls_record_check_pending(t->s))) {
		ssize_t more = gnutls_record_recv(t->s, (char *)buf + r, n - (size_t)r);
		if (more <= 0)
			break;
		r += more;
	}
	return r;
}

static ssize_t conn_write(int fd, const void *buf, size_t n)
{
	return tls_of[fd] ? gnutls_record_send(tls_of[fd]->s, buf, n) : write(fd, buf, n);
}

static int server_pid; /* -p: the server's thread whose CPU is counted */

/* The server's CPU seconds so far (-1 without -p or when unreadable). */
static double cpu_server(void)
{
	char path[64];
	unsigned long long ns = 0;
	if (server_pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", server_pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fscanf(f, "%llu", &ns);
	fclose(f);
	return ok == 1 ? (double)ns / 1e9 : -1;
}

/* This process's CPU seconds so far (user + system). */
static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void tls_setup(const char *dir)
{
	char ca[512], cert[512], key[512];
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/client.pem", dir);
	snprintf(key, sizeof(key), "%s/client.key", dir);
	if (gnutls_certificate_allocate_credentials(&tls) < 0 ||
	    gnutls_certificate_set_x509_trust_file(tls, ca, GNUTLS_X509_FMT_PEM) <= 0 ||
	    gnutls_certificate_set_x509_key_file(tls, cert, key, GNUTLS_X509_FMT_PEM) < 0) {
		fprintf(stderr, "mbbench: the TLS files of %s\n", dir);
		exit(1);
	}
}

static int connect_to(const struct sockaddr_in *sa, bool secure)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror("connect");
		exit(1);
	}
	if (secure) {
		struct tconn *t = fd < MAXFD ? calloc(1, sizeof(*t)) : NULL;
		int r = -1;
		if (t && gnutls_init(&t->s, GNUTLS_CLIENT) == 0 && gnutls_set_default_priority(t->s) == 0 &&
		    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, tls) == 0) {
			t->fd = fd;
			gnutls_session_set_verify_cert(t->s, NULL, 0); /* the chain to ca.pem, no name */
			gnutls_transport_set_ptr(t->s, t);
			gnutls_transport_set_pull_function(t->s, tls_pull);
			gnutls_transport_set_push_function(t->s, tls_push);
			do
				r = gnutls_handshake(t->s);
			while (r < 0 && !gnutls_error_is_fatal(r));
		}
		if (r < 0) {
			fprintf(stderr, "mbbench: TLS handshake failed: %s\n", gnutls_strerror(r));
			exit(1);
		}
		tls_of[fd] = t;
	}
	return fd;
}

/* srv: the server's CPU seconds in it, < 0 unknown */
static void report(const char *what, int nc, long n, int count, double el, float *lat, long errors, double cpu,
		   double srv)
{
	long m = n < MAXLAT ? n : MAXLAT;
	qsort(lat, (size_t)m, sizeof(float), cmp);
	printf("%sclients %d, %ld requests of %d registers in %.2f s: %.0f requests/s, "
	       "latency p50 %.3f ms p99 %.3f ms max %.3f ms, exceptions %ld, client CPU %.0f%% (%.2f us/request)",
	       what, nc, n, count, el, n / el, m ? lat[m / 2] * 1e3 : 0, m ? lat[m * 99 / 100] * 1e3 : 0,
	       m ? lat[m - 1] * 1e3 : 0, errors, el > 0 ? cpu / el * 100 : 0, n ? cpu / n * 1e6 : 0);
	if (srv >= 0)
		printf(", server CPU %.0f%% (%.2f us/request)", el > 0 ? srv / el * 100 : 0, n ? srv / n * 1e6 : 0);
	printf("\n");
}

/* One slice of server s: a request on each connection, a new one for each
 * answer until `until`, then the last answers.  Requests answered. */
static long slice(struct pollfd *pf, int nc, const unsigned char *req, size_t rlen, double until,
		  float *lat, long *n, long *errors)
{
	static double sent[MAXC];
	static size_t got[MAXC];
	unsigned char buf[512];
	long done = 0;
	int out = 0;
	for (int i = 0; i < nc; i++) {
		sent[i] = now();
		got[i] = 0;
		if (conn_write(pf[i].fd, req, 12) != 12)
			exit(1);
		out++;
	}
	while (out > 0) {
		if (poll(pf, (nfds_t)nc, 2000) <= 0) {
			fprintf(stderr, "no answer within 2 s\n");
			exit(1);
		}
		for (int i = 0; i < nc; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			ssize_t r = conn_read(pf[i].fd, buf, sizeof(buf));
			if (r <= 0) {
				fprintf(stderr, "connection %d closed\n", i);
				exit(1);
			}
			if (got[i] == 0 && r >= 8 && (buf[7] & 0x80))
				++*errors;
			got[i] += (size_t)r;
			if (got[i] < rlen && !(buf[7] & 0x80))
				continue;
			double t = now();
			if (*n < MAXLAT)
				lat[*n] = (float)(t - sent[i]);
			++*n;
			done++;
			got[i] = 0;
			if (t >= until) {
				out--;
				continue;
			}
			sent[i] = t;
			if (conn_write(pf[i].fd, req, 12) != 12)
				exit(1);
		}
	}
	return done;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The two-server mode: slices in turn, 0 1 0 1 ... */
static int interleave(const struct sockaddr_in sa[2], const bool secure[2], const unsigned char *req, size_t rlen,
		      int count, int nc, double secs)
{
	static struct pollfd pf[2][MAXC];
	static double rate[2][MAXSLICES / 2], pair[MAXSLICES / 2];
	float *lat[2] = {malloc(sizeof(float) * MAXLAT), malloc(sizeof(float) * MAXLAT)};
	long n[2] = {0, 0}, errors[2] = {0, 0};
	double busy[2] = {0, 0}, cpu[2] = {0, 0}, srv[2] = {0, 0};
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < nc; i++) {
			pf[s][i].fd = connect_to(&sa[s], secure[s]);
			pf[s][i].events = POLLIN;
		}
	double end = now() + secs;
	int k = 0;
	while ((now() < end || k % 2) && k < MAXSLICES) {
		int s = k % 2;
		double t0 = now(), c0 = cpu_self(), s0 = cpu_server();
		long done = slice(pf[s], nc, req, rlen, t0 + SLICE, lat[s], &n[s], &errors[s]);
		double el = now() - t0;
		busy[s] += el;
		cpu[s] += cpu_self() - c0;
		double s1 = cpu_server();
		srv[s] = s0 < 0 || s1 < 0 || srv[s] < 0 ? -1 : srv[s] + s1 - s0; /* -1: unknown */
		rate[s][k / 2] = done / el;
		k++;
	}
	int pairs = k / 2;
	for (int j = 0; j < pairs; j++)
		pair[j] = rate[1][j] / rate[0][j];
	qsort(pair, (size_t)pairs, sizeof(double), cmpd);
	char what[32];
	for (int s = 0; s < 2; s++) {
		snprintf(what, sizeof(what), "port %d: ", ntohs(sa[s].sin_port));
		report(what, nc, n[s], count, busy[s], lat[s], errors[s], cpu[s], srv[s]);
	}
	if (srv[0] >= 0 && srv[1] >= 0 && n[0] > 0 && n[1] > 0) {
		double c0 = cpu[0] / n[0], c1 = cpu[1] / n[1], s0 = srv[0] / n[0], s1 = srv[1] / n[1];
		printf("CPU per request %d/%d: server %.3f, client %.3f, both %.3f; the client's share %.0f%% (%d), "
		       "%.0f%% (%d)\n", ntohs(sa[0].sin_port), ntohs(sa[1].sin_port), s0 / s1, c0 / c1,
		       (s0 + c0) / (s1 + c1), c0 / (s0 + c0) * 100, ntohs(sa[0].sin_port), c1 / (s1 + c1) * 100,
		       ntohs(sa[1].sin_port));
	}
	printf("ratio %d/%d: %.3f (slice pairs %d: median %.3f, quartiles %.3f-%.3f)\n", ntohs(sa[1].sin_port),
	       ntohs(sa[0].sin_port), (n[1] / busy[1]) / (n[0] / busy[0]), pairs, pair[pairs / 2],
	       pair[pairs / 4], pair[pairs * 3 / 4]);
	free(lat[0]);
	free(lat[1]);
	return 0;
}

int main(int argc, char **argv)
{
	int fc = 3;
	bool secure[2] = {false, false};
	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		server_pid = atoi(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc > 2 && (strcmp(argv[1], "-t") == 0 || strcmp(argv[1], "-T") == 0)) {
		tls_setup(argv[2]);
		secure[0] = argv[1][1] == 't';
		secure[1] = true;
		argc -= 2;
		argv += 2;
	}
	if (argc > 2 && strcmp(argv[1], "-f") == 0) {
		fc = atoi(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if ((argc != 8 && argc != 9) || (fc != 3 && fc != 4)) {
		fprintf(stderr, "usage: mbbench [-f 3|4] HOST PORT UNIT ADDR COUNT CLIENTS SECONDS [RATE]\n"
				"       mbbench [-f 3|4] HOST PORT1,PORT2 UNIT ADDR COUNT CLIENTS SECONDS\n"
				"       (-t DIR before them: TLS; -T DIR: TLS on PORT2 only;\n"
				"        -p PID first: the server's CPU per request)\n");
		return 2;
	}
	int unit = atoi(argv[3]), addr = atoi(argv[4]), count = atoi(argv[5]);
	int nc = atoi(argv[6]);
	double secs = atof(argv[7]);
	double period = argc == 9 && atof(argv[8]) > 0 ? 1.0 / atof(argv[8]) : 0;
	if (nc < 1 || nc > MAXC)
		return 2;
	if (secure[1] && !secure[0] && !strchr(argv[2], ','))
		return 2; /* -T: two servers */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	unsigned char req[12] = {0, 1, 0, 0, 0, 6, (unsigned char)unit, (unsigned char)fc, (unsigned char)(addr >> 8),
				 (unsigned char)addr, (unsigned char)(count >> 8), (unsigned char)count};
	size_t rlen = 9 + 2 * (size_t)count;
	const char *comma = strchr(argv[2], ',');
	if (comma) {
		if (period > 0)
			return 2;
		struct sockaddr_in two[2] = {sa, sa};
		two[1].sin_port = htons((uint16_t)atoi(comma + 1));
		return interleave(two, secure, req, rlen, count, nc, secs);
	}
	struct pollfd pf[MAXC];
	double sent[MAXC], due[MAXC];
	size_t got[MAXC];
	int idle[MAXC];
	float *lat = malloc(sizeof(float) * MAXLAT);
	long n = 0, errors = 0;
	for (int i = 0; i < nc; i++) {
		int fd = connect_to(&sa, secure[0]);
		pf[i].fd = fd;
		pf[i].events = POLLIN;
		sent[i] = now();
		got[i] = 0;
		idle[i] = 0;
		if (conn_write(fd, req, sizeof(req)) != (ssize_t)sizeof(req))
			return 1;
	}
	double t0 = now(), end = t0 + secs, c0 = cpu_self(), s0 = cpu_server();
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
					if (conn_write(pf[i].fd, req, sizeof(req)) != (ssize_t)sizeof(req))
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
			ssize_t r = conn_read(pf[i].fd, buf, sizeof(buf));
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
				if (conn_write(pf[i].fd, req, sizeof(req)) != (ssize_t)sizeof(req))
					return 1;
			}
		}
	}
	double el = now() - t0;
	double c1 = cpu_self(), s1 = cpu_server();
	report("", nc, n, count, el, lat, errors, c1 - c0, s0 >= 0 && s1 >= 0 ? s1 - s0 : -1);
	free(lat);
	return 0;
}
