/* SPDX-License-Identifier: MIT */
/* tests/unit/sections.h - the outputs' sections of the configuration
 * handed down to conf/ as the daemon does at its start (main.c:
 * gw_conf_sections), for a test that loads a configuration with one of
 * them, or checks a message that lists them all. */
#ifndef TESTS_UNIT_SECTIONS_H
#define TESTS_UNIT_SECTIONS_H

#include <stdio.h>
#include <stdlib.h>

#include "../../gateway/daemon/daemon.h"

static inline void install_sections(void)
{
	char why[256];
	if (gw_conf_sections(why, sizeof(why)) < 0) {
		fprintf(stderr, "the outputs' sections: %s\n", why);
		exit(1);
	}
}

#endif
