/* SPDX-License-Identifier: MIT */
/* gateway/alerts/alerts_conf.h - [alerts.NAME], the output's own section of
 * the configuration (conf/section.h): its struct, the conditions `on =`
 * names, the section conf/ is handed (the service table's line names it)
 * and the copies the output reads. */
#ifndef GATEWAY_ALERTS_ALERTS_CONF_H
#define GATEWAY_ALERTS_ALERTS_CONF_H

#include "../../conf/section.h"

/* [alerts.NAME]: a destination of alerts (bmsgw.ini(5) "[alerts.NAME]"):
 * an HTTP(S) POST (ntfy, a webhook) or an e-mail (SMTP), sent when one of
 * its conditions becomes true, again every `repeat` while true, and once
 * when it clears. */
#define CONF_MAX_ALERTS 8
/* The conditions `on =` names, bit i = word i of gw_alert_words[]. */
enum conf_alert_cond {
	CONF_AL_ALARM = 0,   /* a BMS protection / alarm bit set */
	CONF_AL_STALE,       /* a unit's data stale */
	CONF_AL_IMBALANCE,   /* a cell spread above imbalance_mv for imbalance_hold */
	CONF_AL_WEAK_CELL,   /* the health estimator names a weak cell (engine/health.h) */
	CONF_AL_SOC_BELOW,   /* SOC below N % (soc_below:N) */
	CONF_AL_IR_RISE,     /* the resistance up by PCT % over its trend (ir_rise:PCT; engine/health.h) */
	CONF_AL_NCOND
};
extern const char *const gw_alert_words[CONF_AL_NCOND + 1];
/* `on =` as parsed: the text as written comes first (a key's text). */
struct conf_alert_on {
	char text[CONF_PORT_MAX];
	unsigned bits;                   /* 1 << enum conf_alert_cond */
	double soc_below;                /* %, with CONF_AL_SOC_BELOW */
	double ir_rise;                  /* %, with CONF_AL_IR_RISE */
};
struct conf_alerts {
	char name[CONF_NAME_MAX];
	int line;
	struct conf_url url;             /* required */
	char to[CONF_PORT_MAX];          /* smtp: recipients, comma separated (required) */
	char from[CONF_PORT_MAX];        /* smtp: the sender (required) */
	char username[CONF_ID_MAX];      /* "" = none (or the URL's) */
	char password_file[CONF_PORT_MAX]; /* "" = none; its first line is the password */
	char password[CONF_HOST_MAX];    /* read from password_file (or the URL's) at load */
	char ca_file[CONF_PORT_MAX];     /* "" = the system's CAs */
	struct conf_alert_on on;         /* default alarm, stale */
	double repeat;                   /* s: sent again while true, 0 = never (3600) */
	int imbalance_mv;                /* mV: a cell spread above it is an imbalance (100) */
	double imbalance_hold;           /* s it must last, and its end, before either is sent (60) */
};

extern const struct conf_section gw_alerts_section;

/* `on =`'s text into on: 0, or -1 with why (the key's parser). */
int gw_alert_on_parse(struct conf_alert_on *on, const char *v, char *why, size_t wl);

/* How many [alerts.NAME] c holds, and the i-th. */
static inline int gw_nalerts(const struct conf *c)
{
	return conf_count(c, &gw_alerts_section);
}

static inline const struct conf_alerts *gw_alerts_cfg(const struct conf *c, int i)
{
	return conf_obj(c, &gw_alerts_section, i);
}

#endif
