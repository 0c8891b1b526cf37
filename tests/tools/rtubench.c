/* SPDX-License-Identifier: MIT */
/* tests/tools/rtubench.c - Modbus RTU master for `make bench`: the
 * server's turnaround.
 *   rtubench DEVICE UNIT ADDR COUNT REQUESTS [FC]
 * Sends REQUESTS reads (FC 3, or 4) of COUNT registers at ADDR to UNIT on
 * DEVICE (a tty in raw mode), one at a time, and measures for each the time
 * from the write() of the request (all its bytes handed over at once) to
 * the first byte of the answer, and to its last.  Over a pty pair no baud
 * rate is simulated: the bytes cross at once, so the figures are the
 * server's own - its wait for the 3.5-character silence at its configured
 * baud rate, its timer's precision, building the answer - without the
 * time the frames would take on a real line.  Prints p50 / p99 / max of
 * both. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned crc16(const unsigned char *p, size_t n)
{
	unsigned crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = crc & 1 ? (crc >> 1) ^ 0xA001 : crc >> 1;
	}
	return crc;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp);
	printf("%s p50 %.3f ms p99 %.3f ms max %.3f ms", what, v[n / 2] * 1e3, v[n * 99 / 100] * 1e3, v[n - 1] * 1e3);
}

/* The answer's bytes: exception (5) or the registers (5 + 2 count). */
static int answer(int fd, size_t want, double *first, double *last)
{
	unsigned char buf[512];
	size_t got = 0;
	while (got < want) {
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, 2000) <= 0)
			return -1;
		ssize_t r = read(fd, buf + got, sizeof(buf) - got);
		if (r <= 0)
			return -1;
		if (got == 0)
			*first = now();
		got += (size_t)r;
		if (got >= 2 && (buf[1] & 0x80))
			want = 5;
	}
	*last = now();
	return buf[1] & 0x80 ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: rtubench DEVICE UNIT ADDR COUNT REQUESTS [FC]\n");
		return 2;
	}
	int unit = atoi(argv[2]), addr = atoi(argv[3]), count = atoi(argv[4]), n = atoi(argv[5]);
	int fc = argc == 7 ? atoi(argv[6]) : 3;
	if (n < 1 || count < 1 || count > 125)
		return 2;
	int fd = open(argv[1], O_RDWR | O_NOCTTY);
	struct termios t;
	if (fd < 0 || tcgetattr(fd, &t) < 0) {
		fprintf(stderr, "rtubench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	cfmakeraw(&t);
	tcsetattr(fd, TCSANOW, &t);
	tcflush(fd, TCIOFLUSH);
	unsigned char req[8] = { (unsigned char)unit, (unsigned char)fc, (unsigned char)(addr >> 8),
				 (unsigned char)addr, 0, (unsigned char)count };
	unsigned crc = crc16(req, 6);
	req[6] = (unsigned char)(crc & 0xFF);
	req[7] = (unsigned char)(crc >> 8);
	double *t1 = malloc(sizeof(double) * (size_t)n), *t2 = malloc(sizeof(double) * (size_t)n);
	int errors = 0;
	for (int i = 0; i < n; i++) {
		if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req))
			return 1;
		double t0 = now(), first = t0, last = t0;
		if (answer(fd, 5 + 2 * (size_t)count, &first, &last) < 0)
			errors++;
		t1[i] = first - t0;
		t2[i] = last - t0;
	}
	printf("%d requests FC%02d of %d registers: ", n, fc, count);
	report("first byte", t1, n);
	printf("; ");
	report("last byte", t2, n);
	printf("; errors %d\n", errors);
	free(t1);
	free(t2);
	close(fd);
	return 0;
}
