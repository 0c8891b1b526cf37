/* SPDX-License-Identifier: MIT */
/* gateway/modes/register_map.c - bmsgw --register-map [--base N]: the
 * register map (registers/) and the Modbus documents (modbus/mbdoc.c) as
 * Markdown, the text of register-map.md. */
#include <stdio.h>

#include "../../registers/regmap.h"
#include "../modbus/mbdoc.h"
#include "cli.h"

int gw_mode_register_map(const struct gw_cli *o, const struct conf *conf)
{
	(void)conf;
	reg_write_markdown(stdout, (unsigned)o->map_base);
	gw_modbus_markdown(stdout, (unsigned)o->map_base, 40000); /* [sunspec] base's default */
	return 0;
}
