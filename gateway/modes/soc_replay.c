/* SPDX-License-Identifier: MIT */
/* gateway/modes/soc_replay.c - bmsgw --soc-replay FILE.csv [--capacity AH]
 * [--chemistry lfp|nmc] [-c FILE [--pack NAME]]: the [soc] keys to count
 * with, then the SOC count over a history CSV (history/replay.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../history/replay.h"
#include "cli.h"

/* -c FILE's [soc] keys of pack NAME (or of its only pack) and its
 * stale_after for --soc-replay; --chemistry (chem >= 0) over them.  -1 to
 * go on, else the exit code. */
static int replay_conf(const struct gw_cli *o, int chem, struct conf_soc *soc, double *stale_after)
{
	struct conf *c = gw_cli_conf_part(o->file);
	if (!c)
		return 1;
	int k = -1;
	for (int i = 0; i < c->npacks; i++)
		if (o->pack ? strcmp(c->packs[i].name, o->pack) == 0 : c->npacks == 1)
			k = i;
	if (k < 0) {
		fprintf(stderr, o->pack ? "bmsgw: %s has no [pack.%s]\n" : "bmsgw: %s has several packs: --pack NAME "
			"says whose [soc] keys count\n", o->file, o->pack);
	} else {
		*soc = c->packs[k].soc;
		*stale_after = c->gw.stale_after;
		if (chem >= 0) {
			soc->chemistry = (enum conf_chemistry)chem;
			conf_soc_derive(soc, &c->limits);
		}
	}
	free(c);
	return k < 0 ? 2 : -1;
}

/* The [soc] keys --soc-replay counts with: -c FILE's, else the defaults;
 * --chemistry and --capacity over them.  -1 to go on, else the exit code. */
static int replay_keys(const struct gw_cli *o, struct conf_soc *soc, double *stale_after)
{
	static const char *const chems[] = { "lfp", "nmc", "lto" };
	int chem = -1, rc;
	for (int i = 0; i < 3 && o->chemistry; i++)
		if (strcmp(o->chemistry, chems[i]) == 0)
			chem = i;
	if (o->chemistry && chem < 0) {
		fprintf(stderr, "bmsgw: --chemistry: \"%s\" is not lfp, nmc or lto\n", o->chemistry);
		return 2;
	}
	conf_soc_defaults(soc, chem < 0 ? CONF_CHEM_LFP : (enum conf_chemistry)chem);
	*stale_after = 30; /* [gateway]'s default */
	if (o->file && (rc = replay_conf(o, chem, soc, stale_after)) >= 0)
		return rc;
	char *end;
	if (o->capacity) {
		soc->capacity = strtod(o->capacity, &end);
		if (*end || !(soc->capacity > 0 && soc->capacity <= 100000)) {
			fprintf(stderr, "bmsgw: --capacity: \"%s\" is not a capacity in Ah (0 < AH <= 100000)\n",
				o->capacity);
			return 2;
		}
	}
	if (!(soc->capacity > 0)) {
		fprintf(stderr, "bmsgw: --soc-replay needs the capacity: --capacity AH, or [soc] capacity in -c FILE "
			"(a history holds no BMS capacity)\n");
		return 2;
	}
	soc->count = true;
	return -1;
}

/* --soc-replay FILE: the SOC count over a history CSV. */
int gw_mode_soc_replay(const struct gw_cli *o, const struct conf *conf)
{
	(void)conf;
	struct conf_soc soc;
	double stale_after;
	int rc = replay_keys(o, &soc, &stale_after);
	if (rc >= 0)
		return rc;
	bool std_in = strcmp(o->soc_replay, "-") == 0;
	FILE *in = std_in ? stdin : fopen(o->soc_replay, "r");
	if (!in) {
		fprintf(stderr, "bmsgw: %s: %s\n", o->soc_replay, strerror(errno));
		return 2;
	}
	rc = gw_soc_replay(in, std_in ? "stdin" : o->soc_replay, &soc, stale_after, stdout, stderr);
	if (!std_in)
		fclose(in);
	if (fflush(stdout) != 0 && !rc)
		rc = 1;
	return rc;
}
