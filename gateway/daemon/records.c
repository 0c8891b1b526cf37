/* SPDX-License-Identifier: MIT */
/* gateway/daemon/records.c - the table of the state file's records
 * (model/statefile.h): each kind of line and its owner, in the order they
 * are written.  A record of a new owner is its const struct
 * gw_state_record there and one line here; the daemon hands the table to
 * the state file (gw_init), so that the file, in model/, names no owner
 * above it. */
#include "../model/energy.h"
#include "../model/gw.h"
#include "../model/health_gw.h"
#include "../model/socunit.h"
#include "../poll/bmsset.h"
#include "../poll/control.h"
#include "../venus/venus.h"
#include "records.h"

const struct gw_state_record *const gw_state_records[] = {
	&gw_energy_pack_record,     /* pack NAME IN OUT: energy counters, kWh */
	&gw_energy_bank_record,     /* bank IN OUT */
	&gw_control_intent_record,  /* intent NAME CHARGE DISCHARGE: what bmsgw last switched */
	&gw_bset_budget_record,     /* bmswrites NAME T1 T2 ...: the BMS settings writes of the last day */
	&gw_charge_full_record,     /* full NAME UNIXTIME: the last absorption or float */
	&gw_soc_record,             /* soc NAME 1 saved=... : the counted SOC */
	&gw_charge_settings_record, /* set NAME max_soc=80/modbus ...: a pack's runtime charge settings */
	&gw_charge_bank_settings_record, /* setbank max_soc=80/modbus ...: the bank's */
	&gw_health_ir_record,       /* hir NAME p:N:R:mOhm,... 1:...: resistance windows */
	&gw_health_knee_record,     /* hknee NAME KNEES CELL:...: the knees each cell led */
	&gw_health_day_record,      /* hday NAME DAY:FULL:REST:IR ...: the days of imbalance */
	&gw_venus_record,           /* venus bmsgw_bank=1 ...: each D-Bus service's DeviceInstance */
	NULL,
};
