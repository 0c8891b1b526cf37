/* SPDX-License-Identifier: MIT */
/* tests/unit/test_victron.c - [mqtt] victron: a unit as
 * mr-manuel/venus-os_dbus-mqtt-battery's JSON (gateway/mqtt/victron.c):
 * only the values the unit has, nothing without what the driver needs,
 * limits once they hold a CVL (fail-safe: 0 A), cells up to the driver's 24, the bank's members.
 * The key list against that project's README is checked end to end by
 * tests/integration/test_site.py. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/mqtt/victron.h"
#include "check.h"

/* The JSON of u, or NULL when it writes none. */
static char *json(const struct mq_victron_unit *u)
{
	char *out = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&out, &len);
	bool have = mq_victron_json(o, u);
	fclose(o);
	if (!have) {
		CHECK_EQ_INT(len, 0);
		free(out);
		return NULL;
	}
	return out;
}

static void test_minimal(void)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	struct mq_victron_unit u = { .s = &s };
	/* nothing: no voltage */
	CHECK(json(&u) == NULL);
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
	s.voltage = 52.7f;
	s.current = -6.1f;
	CHECK(json(&u) == NULL); /* no SOC: the driver would drop it */
	s.present |= BMS_HAS_SOC;
	s.soc = 63;
	char *j = json(&u);
	/* power from voltage and current; no invented zeros: no capacity,
	 * alarms, temperatures, cells, MOSFETs, limits */
	CHECK_STR(j, "{\"Dc\":{\"Power\":-321.5,\"Voltage\":52.70,\"Current\":-6.10},\"Soc\":63.0}");
	free(j);
	/* a power the BMS gives wins; without a current no Current */
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_SOC | BMS_HAS_POWER;
	s.power = 100;
	j = json(&u);
	CHECK_STR(j, "{\"Dc\":{\"Power\":100.0,\"Voltage\":52.70},\"Soc\":63.0}");
	free(j);
	/* neither power nor current: no Dc.Power, no message */
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_SOC;
	CHECK(json(&u) == NULL);
}

static void full_pack(struct bms_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_FULL | BMS_HAS_REMAIN |
		     BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS |
		     BMS_HAS_BALANCE | BMS_HAS_ALARMS;
	s->voltage = 53.2f;
	s->current = 10;
	s->soc = 71.5f;
	s->full_ah = 280;
	s->remain_ah = 200;
	s->cycles = 12;
	s->ncells = 4;
	s->cell_mv[0] = 3301;
	s->cell_mv[1] = 3320;
	s->cell_mv[2] = 3290;
	s->cell_mv[3] = 3310;
	s->ntemps = 3;
	s->temp_c[0] = 21.5f;
	s->temp_c[1] = NAN; /* a sensor found implausible */
	s->temp_c[2] = 24;
	s->mos_temp_c = 30;
	s->chg_mos = true;
	s->dsg_mos = false;
	s->balance = 1u << 1;
	s->alarms = BMS_AL_CELL_DIFF;
}

static void test_full(void)
{
	struct bms_snapshot s;
	full_pack(&s);
	struct gw_limits l;
	memset(&l, 0, sizeof(l));
	l.cvl_v = 55.2;
	l.ccl_a = 80;
	l.dcl_a = 120;
	l.force_charge = true;
	struct mq_victron_unit u = { .s = &s, .lim = &l };
	char *j = json(&u);
	CHECK_STR(j, "{\"Dc\":{\"Power\":532.0,\"Voltage\":53.20,\"Current\":10.00,\"Temperature\":24.0},"
		     "\"InstalledCapacity\":280.00,\"ConsumedAmphours\":80.00,\"Capacity\":200.00,\"Soc\":71.5,"
		     "\"Balancing\":1,"
		     "\"Alarms\":{\"LowVoltage\":0,\"HighVoltage\":0,\"LowSoc\":0,\"HighChargeCurrent\":0,"
		     "\"HighDischargeCurrent\":0,\"HighCurrent\":0,\"CellImbalance\":1,\"HighChargeTemperature\":0,"
		     "\"LowChargeTemperature\":0,\"LowCellVoltage\":0,\"LowTemperature\":0,\"HighTemperature\":0},"
		     "\"Info\":{\"ChargeRequest\":1,\"MaxChargeVoltage\":55.20,\"MaxChargeCurrent\":80.0,"
		     "\"MaxDischargeCurrent\":120.0},"
		     "\"History\":{\"ChargeCycles\":12},"
		     "\"System\":{\"MinVoltageCellId\":\"C3\",\"MinCellVoltage\":3.290,\"MaxVoltageCellId\":\"C2\","
		     "\"MaxCellVoltage\":3.320,\"MinCellTemperature\":21.5,\"MaxCellTemperature\":24.0,"
		     "\"MOSTemperature\":30.0},"
		     "\"Voltages\":{\"Cell1\":3.301,\"Cell2\":3.320,\"Cell3\":3.290,\"Cell4\":3.310},"
		     "\"Balances\":{\"Cell1\":0,\"Cell2\":1,\"Cell3\":0,\"Cell4\":0},"
		     "\"Io\":{\"AllowToCharge\":1,\"AllowToDischarge\":0}}");
	free(j);
	/* a protection the BMS shows is an alarm (2) */
	s.alarms = BMS_AL_PROTECTION | BMS_AL_CELL_UV;
	u.lim = NULL; /* and no valid limits: no Info */
	j = json(&u);
	CHECK(strstr(j, "\"LowCellVoltage\":2") != NULL);
	CHECK(strstr(j, "\"Info\"") == NULL);
	free(j);
	/* fail-safe limits (a stale member with bank_stale = block, cells that
	 * do not fit the chemistry): 0 A both ways and no request, the CVL kept,
	 * since the driver keeps the last Info it had */
	u.lim = &l;
	u.failsafe = true;
	j = json(&u);
	CHECK(strstr(j, "\"Info\":{\"ChargeRequest\":0,\"MaxChargeVoltage\":55.20,\"MaxChargeCurrent\":0.0,"
			"\"MaxDischargeCurrent\":0.0}") != NULL);
	free(j);
	l.cvl_v = 0; /* none kept: no CVL, never 0 V */
	j = json(&u);
	CHECK(strstr(j, "\"Info\":{\"ChargeRequest\":0,\"MaxChargeCurrent\":0.0,\"MaxDischargeCurrent\":0.0}") != NULL);
	free(j);
	u.lim = NULL;
	u.failsafe = false;
	/* 32 cells: the driver's 24 */
	s.ncells = 32;
	for (int i = 0; i < 32; i++)
		s.cell_mv[i] = (uint16_t)(3300 + i);
	j = json(&u);
	CHECK(strstr(j, "\"Cell24\":3.323") != NULL);
	CHECK(strstr(j, "\"Cell25\"") == NULL);
	free(j);
}

static void test_bank(void)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC;
	s.voltage = 53;
	s.current = 2;
	s.soc = 50;
	struct mq_victron_unit u = { .s = &s, .bank = true, .online = 2, .offline = 1, .no_charge = -1,
				     .no_discharge = -1, .have_cells = true, .min_mv = 3280, .max_mv = 3330,
				     .min_pack = 2, .min_cell = 7, .max_pack = 1, .max_cell = 16 };
	char *j = json(&u);
	CHECK_STR(j, "{\"Dc\":{\"Power\":106.0,\"Voltage\":53.00,\"Current\":2.00},\"Soc\":50.0,"
		     "\"System\":{\"MinVoltageCellId\":\"P2C7\",\"MinCellVoltage\":3.280,\"MaxVoltageCellId\":\"P1C16\","
		     "\"MaxCellVoltage\":3.330,\"NrOfModulesOnline\":2,\"NrOfModulesOffline\":1}}");
	free(j);
	u.no_charge = 1;
	u.no_discharge = 0;
	j = json(&u);
	CHECK(strstr(j, "\"NrOfModulesBlockingCharge\":1,\"NrOfModulesBlockingDischarge\":0") != NULL);
	free(j);
}

int main(void)
{
	test_minimal();
	test_full();
	test_bank();
	return check_report();
}
