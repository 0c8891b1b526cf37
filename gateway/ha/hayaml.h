/* SPDX-License-Identifier: MIT */
/* gateway/ha/hayaml.h - Home Assistant configuration output (--ha-yaml). */
#ifndef GATEWAY_HA_HAYAML_H
#define GATEWAY_HA_HAYAML_H

#include <stdio.h>

struct conf;

/* Write a `modbus:` hub with sensors for every pack and the bank. */
void gw_write_ha_yaml(const struct conf *c, FILE *out);

#endif
