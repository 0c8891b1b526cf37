/* SPDX-License-Identifier: MIT */
/* gateway/core/clock.c - the clocks (see clock.h). */
#include "clock.h"

double gw_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t gw_mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

double gw_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int gw_local_now(struct tm *tm)
{
	time_t t = time(NULL);
	localtime_r(&t, tm);
	return tm->tm_year * 1000 + tm->tm_yday;
}
