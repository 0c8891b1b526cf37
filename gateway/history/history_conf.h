/* SPDX-License-Identifier: MIT */
/* gateway/history/history_conf.h - [history], the output's own section of
 * the configuration (conf/section.h): its struct, the section conf/ is
 * handed (the service table's line names it) and the copy the output
 * reads. */
#ifndef GATEWAY_HISTORY_HISTORY_CONF_H
#define GATEWAY_HISTORY_HISTORY_CONF_H

#include "../../conf/section.h"

/* [history]: samples of every pack and the bank in SQLite.  Kept when a
 * [history] or a [http] section exists, unless file = none. */
struct conf_history {
	bool enabled;
	int line;                        /* of [history], 0 = none (defaults) */
	char file[CONF_PORT_MAX];        /* "" = automatic ($STATE_DIRECTORY or /var/lib/bmsgw,
	                                  * history.db); "none" = no history */
	double interval;                 /* seconds between samples (default 60) */
	double retention;                /* days kept (default 180) */
	double raw_days;                 /* days kept at every sample; older ones are
	                                  * folded into 15-minute rows (default 7) */
	bool cells;                      /* every cell's voltage (and balancing) too (default true) */
};

extern const struct conf_section gw_history_section;

/* c's [history] (its defaults when the file has none). */
static inline const struct conf_history *gw_history_cfg(const struct conf *c)
{
	return conf_obj(c, &gw_history_section, 0);
}

#endif
