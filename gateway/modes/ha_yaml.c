/* SPDX-License-Identifier: MIT */
/* gateway/modes/ha_yaml.c - bmsgw -c FILE --ha-yaml: a Home Assistant
 * modbus: configuration for every pack and the bank (ha/hayaml.c). */
#include <stdio.h>

#include "../../conf/conf.h"
#include "../ha/hayaml.h"
#include "cli.h"

int gw_mode_ha_yaml(const struct gw_cli *o, const struct conf *conf)
{
	(void)o;
	if (conf->gw.listen_port == 0) {
		fprintf(stderr, "bmsgw: --ha-yaml: [gateway] listen is empty, so there is no Modbus TCP server for Home "
				"Assistant's Modbus integration to read (it has no TLS for [modbus_tls]); use [mqtt] "
				"discovery, or a listen address\n");
		return 1;
	}
	gw_write_ha_yaml(conf, stdout);
	return 0;
}
