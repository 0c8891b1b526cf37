/* SPDX-License-Identifier: MIT */
/* gateway/modbus/modbus.h - the Modbus TCP output (server and upstream
 * pushers): its row of the service table. */
#ifndef GATEWAY_MODBUS_MODBUS_H
#define GATEWAY_MODBUS_MODBUS_H

#include "../model/service.h"

extern const struct gw_service gw_svc_modbus;

#endif
