/* SPDX-License-Identifier: MIT */
/* gateway/modbus/mbdoc.h - the part of register-map.md that the Modbus
 * output's own tables make: function codes, device identification, the
 * SunSpec block (from sunspec.c's point tables, so the document is the
 * layout served).  `bmsgw --register-map` writes it after the map's part
 * (registers/regmap.c reg_write_markdown()). */
#ifndef GATEWAY_MODBUS_MBDOC_H
#define GATEWAY_MODBUS_MBDOC_H

#include <stdio.h>

/* Markdown for a map at base and a SunSpec block at ss_base. */
void gw_modbus_markdown(FILE *out, unsigned base, unsigned ss_base);

#endif
