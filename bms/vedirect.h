/* SPDX-License-Identifier: MIT */
/* bms/vedirect.h - what a vedirect poll keeps beside its snapshot: the
 * driver's state in struct bms_poll.priv (BMS_PRIV()), the fields of a
 * block the snapshot has no place for.  Its own file so that the driver's
 * unit test can read them. */
#ifndef BMS_VEDIRECT_H
#define BMS_VEDIRECT_H

#include <stdint.h>

struct ved_state {
	int32_t ce_mah;         /* CE, consumed mAh (<= 0), when poll->seen has VED_SEEN_CE */
};

#endif
