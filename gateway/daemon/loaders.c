/* SPDX-License-Identifier: MIT */
/* gateway/daemon/loaders.c - the loaders the configuration's checks borrow
 * (struct conf_loaders, conf.h): the files of [http] and [modbus_tls] are
 * loaded by the code that serves with them, in the rooms that use them, so
 * that a file --check and a reload accept is a file the server takes; and
 * the automatic place of the state files (core/statedir.h), which no key
 * may name for another role.  main() lends them before it reads a
 * configuration. */
#include "../core/statedir.h"
#include "daemon.h"

const struct conf_loaders gw_conf_loaders = {
	.state_path = gw_state_path,
};
