/* SPDX-License-Identifier: MIT */
/* conf/check_http.c - the loader the gateway lent (struct conf_loaders,
 * conf.h): the place of bmsgw's own files where the configuration names
 * none (check_files.c). */
#include "conf_int.h"

static const struct conf_loaders *loaders;

void conf_use_loaders(const struct conf_loaders *l)
{
	loaders = l;
}

const struct conf_loaders *conf__loaders(void)
{
	static const struct conf_loaders none;
	return loaders ? loaders : &none;
}
