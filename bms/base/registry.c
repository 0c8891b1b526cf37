/* SPDX-License-Identifier: MIT */
/* bms/base/registry.c - the driver registry: every driver's table, by
 * BMS_DRIVER_LIST (drivers.h), and the lookup by protocol name.  It is the
 * one file of bms/ that names every driver; the drivers call the helpers
 * of bms.c and never this file, so no call goes round bms/. */
#include <string.h>

#include "../drivers.h"

/* Every driver of BMS_DRIVER_LIST (drivers.h), in protocol-id order. */
const struct bms_driver *const bms_drivers[] = {
#define BMS_DRIVER_REF_(sym) &bms_##sym##_driver,
	BMS_DRIVER_LIST(BMS_DRIVER_REF_)
#undef BMS_DRIVER_REF_
	NULL,
};

const struct bms_driver *bms_find(const char *name)
{
	for (size_t i = 0; bms_drivers[i]; i++)
		if (strcmp(bms_drivers[i]->name, name) == 0)
			return bms_drivers[i];
	return NULL;
}
