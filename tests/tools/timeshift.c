/* SPDX-License-Identifier: MIT */
/* tests/tools/timeshift.c - a wall clock that jumps, for `make bench`, as an
 * LD_PRELOAD library: time(), gettimeofday() and clock_gettime() of
 * CLOCK_REALTIME (and its coarse twin) run TIMESHIFT_FILE's number of
 * seconds off the real clock; the file is read again at most every 50 ms,
 * so that a bench can move a running daemon an hour on (the monotonic
 * clock is left alone: timers, backoff and timeouts go on as they were).
 * bench_backfill.py lets bmsgw live an hour behind, stops the broker, puts
 * the clock right and fills the history with the hour's samples: an hour's
 * outage in a few seconds. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*cg_fn)(clockid_t, struct timespec *);

static cg_fn real_clock_gettime(void)
{
	static cg_fn real;
	if (!real)
		real = (cg_fn)dlsym(RTLD_NEXT, "clock_gettime");
	return real;
}

/* the shift in seconds, from the file (0 without one) */
static double shift(void)
{
	static double cached, read_at = -1;
	struct timespec now;
	real_clock_gettime()(CLOCK_MONOTONIC, &now);
	double t = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	if (read_at >= 0 && t - read_at < 0.05)
		return cached;
	read_at = t;
	const char *path = getenv("TIMESHIFT_FILE");
	FILE *f = path ? fopen(path, "r") : NULL;
	if (f) {
		double v;
		if (fscanf(f, "%lf", &v) == 1)
			cached = v;
		fclose(f);
	}
	return cached;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = real_clock_gettime()(id, ts);
	if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
		double s = shift();
		long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + (long long)(s * 1e9);
		ts->tv_sec = (time_t)(ns / 1000000000LL);
		ts->tv_nsec = (long)(ns % 1000000000LL);
	}
	return rc;
}

int gettimeofday(struct timeval *tv, void *tz)
{
	(void)tz;
	struct timespec ts;
	int rc = clock_gettime(CLOCK_REALTIME, &ts);
	if (rc == 0) {
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return rc;
}

time_t time(time_t *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (out)
		*out = ts.tv_sec;
	return ts.tv_sec;
}
