/* SPDX-License-Identifier: MIT */
/* gateway/daemon/records.h - the state file's records, in the file's order
 * (records.c). */
#ifndef GATEWAY_DAEMON_RECORDS_H
#define GATEWAY_DAEMON_RECORDS_H

#include "../model/statefile.h"

/* NULL-terminated. */
extern const struct gw_state_record *const gw_state_records[];

#endif
