/* SPDX-License-Identifier: MIT */
/* gateway/core/clock.h - the clocks every layer may read, a leaf like
 * redis's monotonic clock
 * (https://github.com/redis/redis/blob/unstable/src/monotonic.h):
 * monotonic seconds for timeouts, ages and rates, the wall clock for what
 * users see, local time for the daily SOC maximum and the time-zone
 * register. */
#ifndef GATEWAY_CORE_CLOCK_H
#define GATEWAY_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic seconds (CLOCK_MONOTONIC): never steps with the wall clock. */
double gw_mono(void);
/* The same in microseconds (sd-bus timeouts, systemd's MONOTONIC_USEC). */
uint64_t gw_mono_usec(void);
/* Wall-clock unix seconds, with the fraction. */
double gw_wall(void);
/* Local time now in *tm; returns a key that changes at local midnight. */
int gw_local_now(struct tm *tm);

#endif
