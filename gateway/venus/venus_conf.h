/* SPDX-License-Identifier: MIT */
/* gateway/venus/venus_conf.h - [venus], the output's own section of the
 * configuration (conf/section.h): its struct, the section conf/ is handed
 * (the service table's line names it) and the copy the output reads. */
#ifndef GATEWAY_VENUS_VENUS_CONF_H
#define GATEWAY_VENUS_VENUS_CONF_H

#include "../../conf/section.h"

/* [venus]: each pack (but those with venus = false) and the bank as a
 * com.victronenergy.battery service on D-Bus, for a Victron GX (Venus OS)
 * (bmsgw.ini(5) "[venus]"). */
struct conf_venus {
	bool enabled;                    /* a [venus] section exists */
	int line;
	char bus[CONF_HOST_MAX];         /* "system", or a D-Bus address (unix:path=... ) */
	bool bank;                       /* the bank's service (true) */
};

/* The longest name of a service (com.victronenergy.battery.bmsgw_NAME). */
#define VENUS_SERVICE_MAX 96

extern const struct conf_section gw_venus_section;

/* c's [venus] (its defaults when the file has none). */
static inline const struct conf_venus *gw_venus_conf(const struct conf *c)
{
	return conf_obj(c, &gw_venus_section, 0);
}

/* The word of a unit on the bus: "bmsgw_" and the pack's name with - as _
 * (a D-Bus object path's element takes no -), "bmsgw_bank" for the bank
 * (pack NULL). */
void gw_venus_unit_word(const char *pack, char *out, size_t cap);

#endif
