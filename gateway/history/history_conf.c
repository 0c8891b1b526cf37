/* SPDX-License-Identifier: MIT */
/* gateway/history/history_conf.c - [history], the output's own section of
 * the configuration (conf/section.h): its keys, the checks after the parse
 * (whether it is kept: with [history] or [http], unless file = none; the
 * days at every sample within those kept) and its lines of --check. */
#include "history_conf.h"

#include <stddef.h>
#include <string.h>

/* its keys, in the order messages and lists give them */
enum { HI_FILE, HI_INTERVAL, HI_RETENTION, HI_RAW_DAYS, HI_CELLS, HI_NKEYS };

#define HI(f) offsetof(struct conf_history, f)

/* any change restarts the output (the database opened again) */
static const struct conf_key keys[HI_NKEYS] = {
	[HI_FILE] = {"file", CONF_RESTART, KT_PATH, 0, 0, false, NULL, HI(file), NULL, .file = CONF_FILE_HISTORY,
		     .flags = CONF_KF_NONE},
	[HI_INTERVAL] = {"interval", CONF_RESTART, KT_DOUBLE, 1, 86400, false, NULL, HI(interval), "60"},
	[HI_RETENTION] = {"retention", CONF_RESTART, KT_DOUBLE, 0, 3650, true, NULL, HI(retention), "180"},
	[HI_RAW_DAYS] = {"raw_days", CONF_RESTART, KT_DOUBLE, 0, 3650, false, NULL, HI(raw_days), "7"},
	[HI_CELLS] = {"cells", CONF_RESTART, KT_BOOL, 0, 0, false, NULL, HI(cells), "true"},
};

/* Kept with its section or [http]'s (its `with`), unless file = none. */
static void finish(struct conf_load *x)
{
	struct conf_history *h = (struct conf_history *)gw_history_cfg(conf_loading(x));
	h->enabled = conf_section_on(conf_loading(x), &gw_history_section) && strcmp(h->file, "none") != 0;
	if (h->line && h->raw_days > h->retention)
		conf_fail(x, conf_seen(x, &gw_history_section, 0)[HI_RAW_DAYS], "history", "raw_days",
			  "%g is longer than retention = %g (expected at most the days history is kept)", h->raw_days,
			  h->retention);
}

static void print(const struct conf *c, FILE *out)
{
	const struct conf_history *h = gw_history_cfg(c);
	if (h->enabled) {
		fprintf(out, "history\n  file          %s\n", h->file[0] ? h->file
			: "automatic ($STATE_DIRECTORY/history.db, else /var/lib/bmsgw/history.db)");
		fprintf(out, "  samples       every %g s, kept %g days at every sample, then 15-minute rows up to "
			"%g days\n", h->interval, h->raw_days, h->retention);
		fprintf(out, "  cells         %s\n", h->cells ? "every cell's voltage (and balancing) with each sample"
			: "off (the lowest, highest and difference only)");
	} else if (h->line) {
		fprintf(out, "history\n  off (file = none)\n");
	}
}

/* In the lists always (its defaults when the file has none: /api/config
 * shows them), and on with [http] too (`with`). */
const struct conf_section gw_history_section = {
	.word = "history", .max = 1, .size = sizeof(struct conf_history), .name = CONF_NO_FIELD, .line = HI(line),
	.enabled = CONF_NO_FIELD, .with = "http", .keys = keys, .nkeys = HI_NKEYS,
	.list_order = 80, .finish_order = 55, .print_order = 80, .finish = finish, .print = print,
};
