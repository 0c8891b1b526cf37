/* SPDX-License-Identifier: MIT */
/* gateway/venus/venus.h - each pack and the bank as a Victron battery
 * service on D-Bus ([venus]): com.victronenergy.battery.bmsgw_NAME and
 * .bmsgw_bank with the paths dbus-serialbattery publishes, for a GX
 * (Venus OS) whose systemcalc and DVCC take the bank as its battery.  Its
 * row of the service table (model/service.h) and the state file's record
 * of its DeviceInstances (model/statefile.h). */
#ifndef GATEWAY_VENUS_VENUS_H
#define GATEWAY_VENUS_VENUS_H

#include "../model/service.h"
#include "../model/statefile.h"

extern const struct gw_service gw_svc_venus;
extern const struct gw_state_record gw_venus_record;

#endif
