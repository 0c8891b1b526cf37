/* SPDX-License-Identifier: MIT */
/* gateway/modes/history_csv.c - bmsgw -c FILE --history-csv UNIT [--from
 * TIME] [--to TIME] [--step SPAN]: the history of one unit as CSV on
 * stdout (history/). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../conf/conf.h"
#include "../history/history.h"
#include "cli.h"

int gw_mode_history_csv(const struct gw_cli *o, const struct conf *conf)
{
	int64_t now = (int64_t)time(NULL), to = now + 1, from, step = 0;
	char path[CONF_PORT_MAX], err[512];
	if (o->hist_to && gw_history_parse_time(o->hist_to, now, &to) < 0) {
		fprintf(stderr, "bmsgw: --to: \"%s\" is not a time (unix seconds, 2026-11-20 or 2026-11-20T10:00:00Z)\n",
			o->hist_to);
		return 2;
	}
	from = to - 86400;
	if (o->hist_from && gw_history_parse_time(o->hist_from, now, &from) < 0) {
		fprintf(stderr, "bmsgw: --from: \"%s\" is not a time (unix seconds, 2026-11-20 or 2026-11-20T10:00:00Z)\n",
			o->hist_from);
		return 2;
	}
	if (o->hist_step && strcmp(o->hist_step, "0") != 0 && gw_history_parse_span(o->hist_step, &step) < 0) {
		fprintf(stderr, "bmsgw: --step: \"%s\" is not a duration (e.g. 300, 15m, 1h, 1d)\n", o->hist_step);
		return 2;
	}
	if (from >= to) {
		fprintf(stderr, "bmsgw: --from must be before --to\n");
		return 2;
	}
	if (!gw_history_cfg(conf)->enabled) {
		fprintf(stderr, "bmsgw: %s keeps no history (add a [history] or [http] section, without file = none)\n",
			conf->file);
		return 1;
	}
	gw_history_path(gw_history_cfg(conf), path, sizeof(path));
	if (gw_history_export(gw_history_cfg(conf), o->hist_unit, from, to, step, stdout, err, sizeof(err)) < 0) {
		fflush(stdout);
		fprintf(stderr, "bmsgw: history %s: %s\n", path, err);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
