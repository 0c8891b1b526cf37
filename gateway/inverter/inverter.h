/* SPDX-License-Identifier: MIT */
/* gateway/inverter/inverter.h - the inverter outputs ([inverter.NAME]:
 * pylon-can, sma-can, pylon-rs485): their row of the service table. */
#ifndef GATEWAY_INVERTER_INVERTER_H
#define GATEWAY_INVERTER_INVERTER_H

#include "../model/service.h"

extern const struct gw_service gw_svc_inverter;

#endif
