/* SPDX-License-Identifier: MIT */
/* gateway/detect/canmatch.h - `bmsgw --detect` on a CAN bus: which CAN
 * family's driver makes batteries of the frames heard (canport.c listens).
 *
 * Pure: records in (bms.h, BMS_CAN_MAGIC0 ..., as the CAN transport hands
 * them to a pack), a verdict out.  Each family is tried as the daemon's
 * CAN poll reads it: its scan() and handle() over the records, a poll
 * whole when handle() says BMS_OK or, once its wait ran out, its
 * timeout() finds its frames enough, then its finish(), the derived values
 * and the plausibility table (bms_plausible()) and the probe's battery
 * check (bms_probe_plausible(), or for a family of more than 32 cells
 * bms_probe_plausible_hv() too), a new poll after it; a frame the family's scan()
 * refuses (BMS_SCAN_BADSUM: its CRC, check byte or length) is counted and
 * passed over (what the driver
 * learned kept, as a pack's next poll keeps it).  A family matches with at
 * least one whole plausible poll; of two, the one whose polls used more of
 * the frames heard ranks first.  Only the listen-only CAN drivers are
 * tried: a family that must be asked (daly-can) is never sent its request.
 * bmsgw(8) "DETECTING A BMS".
 */
#ifndef GATEWAY_DETECT_CANMATCH_H
#define GATEWAY_DETECT_CANMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define GW_CAN_RATES 4   /* bit rates the CAN drivers use, at most */

/* What one family made of the frames, at one address. */
struct gw_can_match {
	const struct bms_driver *drv;
	uint8_t address;
	unsigned polls;                 /* whole polls with a plausible battery */
	unsigned used;                  /* records those polls took */
	unsigned bad;                   /* polls that failed (a frame refused, finish(), implausible) */
	unsigned refused;               /* frames its family's check refused (a CRC, a check byte, a length) */
	char what[BMS_PROBE_TEXT];      /* the last good poll's summary, or why the last one failed */
	struct bms_probe_result read;   /* its cells and SOC (has_cells, has_soc): the chemistry */
};

/* The bit rates of the CAN drivers (can->bitrate), the one most drivers use
 * first (the higher of two as many); their number. */
int gw_can_rates(uint32_t *rates, int cap);
/* Is drv tried at rate?  A listen-only CAN driver of that rate (rate 0:
 * of any rate, a SocketCAN interface's own). */
bool gw_can_tried(const struct bms_driver *drv, uint32_t rate);
/* drv's polls over rec[0..n) at address into *m.  at[i] (i < nat; at may
 * be NULL) is when record i was heard, in s: a poll whose wait (the
 * driver's default_timeout) ran out before a record ends there, as the
 * daemon's would, whole if the driver's timeout() finds it so; the poll
 * the records end in is judged by timeout() too. */
void gw_can_match_run(const struct bms_driver *drv, uint8_t address, const uint8_t *rec, size_t n, const float *at,
		      size_t nat, struct gw_can_match *m);
/* drv at each of its addresses (min..max): the one whose polls used the
 * most records into *m; true when it matched (m->polls > 0). */
bool gw_can_match_best(const struct bms_driver *drv, const uint8_t *rec, size_t n, const float *at, size_t nat,
			struct gw_can_match *m);
/* The ranking: < 0 when a goes before b (more records used, then more
 * polls, then the table's order as the caller had it: 0). */
int gw_can_match_cmp(const struct gw_can_match *a, const struct gw_can_match *b);

#endif
