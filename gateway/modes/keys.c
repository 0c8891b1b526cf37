/* SPDX-License-Identifier: MIT */
/* gateway/modes/keys.c - bmsgw --keys (not in --help, for the tests):
 * every key of the configuration: section, name, type, range, words,
 * default, reload class. */
#include <stdio.h>

#include "../../conf/section.h"
#include "cli.h"

int gw_mode_keys(const struct gw_cli *o, const struct conf *conf)
{
	(void)o;
	(void)conf;
	conf_print_keys(stdout);
	return 0;
}
