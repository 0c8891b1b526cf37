/* SPDX-License-Identifier: MIT */
/* gateway/influx/influx_conf.h - [influx], the output's own section of the
 * configuration (conf/section.h): its struct, the section conf/ is handed
 * (the service table's line names it) and the copy the output reads. */
#ifndef GATEWAY_INFLUX_INFLUX_CONF_H
#define GATEWAY_INFLUX_INFLUX_CONF_H

#include "../../conf/section.h"

/* [influx]: the units' values pushed to InfluxDB in its line protocol
 * (bmsgw.ini(5) "[influx]"): v1 (/write?db=DATABASE) when database = is
 * given, v2 (/api/v2/write?org=ORG&bucket=BUCKET) when org = and bucket
 * = are. */
struct conf_influx {
	bool enabled;                    /* a [influx] section exists */
	int line;
	struct conf_url url;       /* required: http(s)://HOST[:PORT][/PATH] */
	char database[CONF_ID_MAX];      /* v1 */
	char username[CONF_ID_MAX];      /* v1: "" = none */
	char password_file[CONF_PORT_MAX]; /* v1: its first line is the password */
	char password[CONF_HOST_MAX];    /* read from password_file at load */
	char org[CONF_ID_MAX];           /* v2 */
	char bucket[CONF_ID_MAX];        /* v2 */
	char token_file[CONF_PORT_MAX];  /* v2: its first line is the API token */
	char token[CONF_HOST_MAX];       /* read from token_file at load */
	char ca_file[CONF_PORT_MAX];     /* "" = the system's CAs */
	double interval;                 /* s between two points of a unit (10) */
	double timeout;                  /* s a POST may take, connecting included (10) */
	int batch;                       /* points in one POST at most (1000) */
	int queue;                       /* points held while the server is away (10000) */
	int version;                     /* derived: 1 or 2 */
};

extern const struct conf_section gw_influx_section;

/* c's [influx] (its defaults when the file has none). */
static inline const struct conf_influx *gw_influx_conf(const struct conf *c)
{
	return conf_obj(c, &gw_influx_section, 0);
}

#endif
