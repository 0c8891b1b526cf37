/* SPDX-License-Identifier: MIT */
/* gateway/modes/check.c - bmsgw -c FILE --check: the configuration
 * loaded and validated (as main() loaded it), its warnings, its summary. */
#include <stdio.h>

#include "../../conf/conf.h"
#include "cli.h"

static void warn_stderr(void *arg, const char *text)
{
	(void)arg;
	fprintf(stderr, "bmsgw: warning: %s\n", text);
}

int gw_mode_check(const struct gw_cli *o, const struct conf *conf)
{
	(void)o;
	conf_warnings(conf, warn_stderr, NULL);
	conf_print_summary(conf, stdout);
	printf("configuration OK\n");
	return 0;
}
