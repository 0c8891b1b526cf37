/* SPDX-License-Identifier: MIT */
/* tests/unit/test_mqtt_json.c - the mqtt-json field map and mapper
 * (bms/base/jsonmap.c) and its driver (bms_mqtt_json_driver) on the shapes the
 * nodes publish (bms/PROTOCOLS.md "mqtt-json" names the sources):
 *  - mr-manuel/venus-os_dbus-mqtt-battery's JSON (README "JSON structure":
 *    nested Dc, Info, History, System, Voltages.CellN), which nodes feeding
 *    a Victron GX publish;
 *  - aiobmsble's BMSSample (its package's init module) as a JSON object, flat
 *    keys, cell_voltages an array, temp_values [value, type] pairs in the
 *    newer releases;
 *  - an ESPHome node's mqtt.publish_json (keys of the node's own choosing),
 *    also with the BMS's own settings (setting_<key>; the message is built
 *    for the test: the keys are the node's choice, no published shape).
 * Every message a record as the MQTT transport hands it over, framed and
 * handled as the poller does (drive.h).
 */
#include <math.h>

#include "check.h"
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../bms/jsonmap.h"

static const struct bms_driver *drv = &bms_mqtt_json_driver;
#include "drive.h"

static const char venus[] =
	"{\"Dc\":{\"Power\":321.6,\"Voltage\":52.7,\"Current\":6.10,\"Temperature\":23},"
	"\"InstalledCapacity\":200.0,\"ConsumedAmphours\":74.5,\"Capacity\":125.5,\"Soc\":63,"
	"\"Balancing\":0,\"Info\":{\"MaxChargeVoltage\":55.2,\"MaxChargeCurrent\":80.0,\"MaxDischargeCurrent\":120.0},"
	"\"History\":{\"ChargeCycles\":5},\"System\":{\"MOSTemperature\":23.5},"
	"\"Voltages\":{\"Cell1\":3.201,\"Cell2\":3.202,\"Cell3\":3.203,\"Cell4\":3.204,\"Cell5\":3.205,\"Cell6\":3.206,\"Cell7\":3.207,\"Cell8\":3.208,"
	"\"Cell9\":3.209,\"Cell10\":3.210,\"Cell11\":3.211,\"Cell12\":3.212,\"Cell13\":3.213,\"Cell14\":3.214,\"Cell15\":3.215,\"Cell16\":3.216}}";

static const char aiobmsble[] =
	"{\"voltage\":13.3,\"current\":-1.25,\"battery_level\":87,\"battery_health\":99,\"cycles\":12,"
	"\"cycle_charge\":87.1,\"design_capacity\":100,\"power\":-16.6,\"battery_charging\":false,"
	"\"cell_count\":4,\"cell_voltages\":[3.325,3.326,3.324,3.325],\"temp_sensors\":2,"
	"\"temp_values\":[[21.0,1],[22.5,2]],\"chrg_mosfet\":true,\"dischrg_mosfet\":true,\"problem\":false}";

/* One message as a record, framed and handled: the handle() result (or
 * the error of no frame). */
static int feed(struct bms_poll *poll, const char *msg)
{
	uint8_t rec[BMS_MSG_HDR + BMS_JSON_MSG_MAX + 8];
	size_t n = bms_msg_record(rec, sizeof(rec), msg, strlen(msg));
	CHECK(n > 0);
	size_t fl = 0;
	if (drv->scan(poll, rec, n, &fl) != BMS_SCAN_FRAME || fl != n)
		return -100;
	int rc = drv->handle(poll, rec, n);
	if (rc == BMS_OK && drv->finish)
		rc = drv->finish(poll);
	return rc;
}

static void begin(struct bms_poll *poll, const struct bms_jsonmap *m)
{
	bms_poll_begin(poll, 0, 0, false);
	poll->jsonmap = m;
}

static void map_of(struct bms_jsonmap *m, const char *text)
{
	char why[160] = "";
	int rc = bms_jsonmap_parse(text, m, why, sizeof(why));
	if (rc)
		fprintf(stderr, "map \"%s\": %s\n", text, why);
	CHECK_EQ_INT(rc, 0);
}

static void test_venus(void)
{
	struct bms_jsonmap m;
	map_of(&m, "voltage:Dc.Voltage, current:Dc.Current, power:Dc.Power, soc:Soc, full_ah:InstalledCapacity, "
		   "remain_ah:Capacity, cycles:History.ChargeCycles, temp_1:Dc.Temperature, mos_temp_c:System.MOSTemperature, "
		   "balancing:Balancing, ccl_a:Info.MaxChargeCurrent, dcl_a:Info.MaxDischargeCurrent, "
		   "cell_1:Voltages.Cell1, cell_2:Voltages.Cell2, cell_3:Voltages.Cell3, cell_4:Voltages.Cell4, "
		   "cell_5:Voltages.Cell5, cell_6:Voltages.Cell6, cell_7:Voltages.Cell7, cell_8:Voltages.Cell8, "
		   "cell_9:Voltages.Cell9, cell_10:Voltages.Cell10, cell_11:Voltages.Cell11, cell_12:Voltages.Cell12, "
		   "cell_13:Voltages.Cell13, cell_14:Voltages.Cell14, cell_15:Voltages.Cell15, cell_16:Voltages.Cell16");
	struct bms_poll poll;
	begin(&poll, &m);
	CHECK_EQ_INT(feed(&poll, venus), BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 52.7, 1e-4);
	CHECK_NEAR(s->current, 6.10, 1e-4);
	CHECK_NEAR(s->power, 321.6, 1e-3);
	CHECK_NEAR(s->soc, 63, 1e-6);
	CHECK_NEAR(s->full_ah, 200, 1e-6);
	CHECK_NEAR(s->remain_ah, 125.5, 1e-6);
	CHECK_EQ_INT(s->cycles, 5);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 23, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 23.5, 1e-6);
	CHECK(s->present & BMS_HAS_BALANCING);
	CHECK(!s->balancing);
	CHECK_NEAR(s->bms_ccl_a, 80, 1e-6);
	CHECK_NEAR(s->bms_dcl_a, 120, 1e-6);
	CHECK_EQ_INT(s->ncells, 16);
	CHECK_EQ_INT(s->cell_mv[0], 3201);
	CHECK_EQ_INT(s->cell_mv[15], 3216);
	CHECK(!(s->present & BMS_HAS_SOH)); /* not carried: absent */
	CHECK(bms_plausible(s, NULL));
	/* the same cells as numbered keys, one pair */
	map_of(&m, "voltage:Dc.Voltage, soc:Soc, cells:Voltages.Cell#");
	begin(&poll, &m);
	CHECK_EQ_INT(feed(&poll, venus), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK_EQ_INT(poll.snap.cell_mv[15], 3216);
	char why[160];
	CHECK_EQ_INT(bms_jsonmap_parse("voltage:v, soc:Cell#", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("voltage:v, cells:C#.#", &m, why, sizeof(why)), -1);
}

static void test_aiobmsble(void)
{
	struct bms_jsonmap m;
	map_of(&m, "voltage:voltage, current:current, soc:battery_level, soh:battery_health, cycles:cycles, "
		   "remain_ah:cycle_charge, full_ah:design_capacity, power:power, cells:cell_voltages, "
		   "temp_1:temp_values.0.0, temp_2:temp_values.1.0, charge_mos:chrg_mosfet, discharge_mos:dischrg_mosfet");
	struct bms_poll poll;
	begin(&poll, &m);
	CHECK_EQ_INT(feed(&poll, aiobmsble), BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 13.3, 1e-4);
	CHECK_NEAR(s->current, -1.25, 1e-6);
	CHECK_NEAR(s->soc, 87, 1e-6);
	CHECK_NEAR(s->soh, 99, 1e-6);
	CHECK_EQ_INT(s->cycles, 12);
	CHECK_EQ_INT(s->ncells, 4);
	CHECK_EQ_INT(s->cell_mv[1], 3326);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[1], 22.5, 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK(s->present & BMS_HAS_MOSFETS);
	/* invert_current */
	bms_poll_begin(&poll, 0, 0, true);
	poll.jsonmap = &m;
	CHECK_EQ_INT(feed(&poll, aiobmsble), BMS_OK);
	CHECK_NEAR(poll.snap.current, 1.25, 1e-6);
}

/* A high-voltage pack's 108 cells (Battery-Emulator's MQTT "cell_voltages",
 * in V): every one into the snapshot, which holds 192; 193 refused. */
static void test_hv_cells(void)
{
	struct bms_jsonmap m;
	map_of(&m, "voltage:v, cells:cell_voltages, cell_108:last");
	char msg[4096];
	int n = snprintf(msg, sizeof(msg), "{\"v\":399.6,\"last\":3.712,\"cell_voltages\":[");
	for (int i = 0; i < 108; i++)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%s%.3f", i ? "," : "", 3.6 + 0.001 * i);
	snprintf(msg + n, sizeof(msg) - (size_t)n, "]}");
	struct bms_poll poll;
	begin(&poll, &m);
	CHECK_EQ_INT(feed(&poll, msg), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 108);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3600);
	CHECK_EQ_INT(poll.snap.cell_mv[106], 3706);
	CHECK_EQ_INT(poll.snap.cell_mv[107], 3712);
	n = snprintf(msg, sizeof(msg), "{\"v\":399.6,\"last\":3.712,\"cell_voltages\":[");
	for (int i = 0; i < 193; i++)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%s3.600", i ? "," : "");
	snprintf(msg + n, sizeof(msg) - (size_t)n, "]}");
	begin(&poll, &m);
	CHECK(feed(&poll, msg) < 0);
}

/* An ESPHome node's mqtt.publish_json: its own keys, ON/OFF binary states. */
static void test_esphome(void)
{
	struct bms_jsonmap m;
	map_of(&m, "voltage:total_voltage, current:current, soc:state_of_charge, cells_mv:cells, "
		   "temp_1:temperature_1, temp_3:temperature_3, balancing:balancing, alarm_cell_ov:ovp, alarm_short:scp");
	struct bms_poll poll;
	begin(&poll, &m);
	CHECK_EQ_INT(feed(&poll, "{\"total_voltage\":26.6,\"current\":0,\"state_of_charge\":40,"
				 "\"cells\":[3321,3322,3320,3321,3322,3320,3321,3322],\"temperature_1\":19.2,"
				 "\"temperature_3\":20.1,\"balancing\":\"ON\",\"ovp\":true,\"scp\":0}"),
		     BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_EQ_INT(s->ncells, 8);
	CHECK_EQ_INT(s->cell_mv[7], 3322);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK(isnan(s->temp_c[1])); /* temp_2 not mapped: absent, not 0 degC */
	CHECK_NEAR(s->temp_c[2], 20.1, 1e-5);
	CHECK(s->balancing);
	CHECK_EQ_INT(s->alarms, BMS_AL_CELL_OV);
	CHECK(s->present & BMS_HAS_ALARMS);
}

/* The BMS's settings a map names: kept from a good message, one a message
 * lacks keeping its last value, a bad one refusing the message whole. */
static void test_settings(void)
{
	struct bms_jsonmap m;
	map_of(&m, "voltage:v, soc:soc, setting_cell_ovp_v:ovp, setting_cell_uvp_v:uvp, "
		   "setting_charge_ocp_a:Settings.chg_ocp, setting_charge_utp_c:Settings.utp, setting_cell_count:n, "
		   "setting_pack_ovp_v:povp");
	CHECK(bms_jsonmap_settings(&m) ==
	      (BMS_SET_BIT(BMS_SET_CELL_OVP_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_V) | BMS_SET_BIT(BMS_SET_CHARGE_OCP_A) |
	       BMS_SET_BIT(BMS_SET_CHARGE_UTP_C) | BMS_SET_BIT(BMS_SET_CELL_COUNT) | BMS_SET_BIT(BMS_SET_PACK_OVP_V)));
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll)); /* a pack's first poll: nothing kept */
	begin(&poll, &m);
	CHECK_EQ_INT(feed(&poll, "{\"v\":53.2,\"soc\":70,\"ovp\":3.65,\"uvp\":2.5,\"n\":16,\"povp\":58.4,"
				 "\"Settings\":{\"chg_ocp\":100,\"utp\":-10}}"),
		     BMS_OK);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_V], 3.65, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_CELL_UVP_V], 2.5, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_CHARGE_OCP_A], 100, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_CHARGE_UTP_C], -10, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_CELL_COUNT], 16, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_PACK_OVP_V], 58.4, 1e-4);
	CHECK(!bms_settings_has(st, BMS_SET_MOS_OTP_C)); /* not mapped: absent */
	/* a message without them (or null): the last values stay */
	CHECK_EQ_INT(feed(&poll, "{\"v\":53.1,\"soc\":69,\"uvp\":null}"), BMS_OK);
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_V], 3.65, 1e-5);
	CHECK(bms_settings_has(st, BMS_SET_CELL_UVP_V));
	/* one changed: taken */
	CHECK_EQ_INT(feed(&poll, "{\"v\":53.1,\"soc\":69,\"ovp\":3.6}"), BMS_OK);
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_V], 3.6, 1e-5);
	/* out of its range, of another type, a count not whole: the message refused, nothing taken */
	static const char *const bad[] = {
		"{\"v\":53,\"soc\":50,\"ovp\":7.0}",      /* a cell above 5 V */
		"{\"v\":53,\"soc\":50,\"povp\":1001}",    /* a pack above 1000 V */
		"{\"v\":53,\"soc\":50,\"ovp\":\"3.65\"}", /* a string */
		"{\"v\":53,\"soc\":50,\"ovp\":-0.1}",
		"{\"v\":53,\"soc\":50,\"n\":15.5}",
		"{\"v\":53,\"soc\":50,\"n\":0}",
		"{\"v\":53,\"soc\":50,\"n\":193}",
		"{\"v\":53,\"soc\":50,\"Settings\":{\"utp\":-60}}",
		"{\"v\":53,\"soc\":50,\"Settings\":{\"chg_ocp\":3001}}",
		"{\"v\":53,\"soc\":50,\"Settings\":{\"chg_ocp\":true}}",
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int rc = feed(&poll, bad[k]);
		if (rc != BMS_E_RANGE)
			fprintf(stderr, "message %u (%s): %d\n", k, bad[k], rc);
		CHECK_EQ_INT(rc, BMS_E_RANGE);
	}
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_V], 3.6, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_CELL_COUNT], 16, 1e-5);
	/* a message whose status is bad takes none of its settings: no voltage,
	 * or 0 V (no data, refused by finish() after handle() took it) */
	CHECK(feed(&poll, "{\"soc\":50,\"ovp\":3.5}") < 0);
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_V], 3.6, 1e-5);
	CHECK_EQ_INT(feed(&poll, "{\"v\":0,\"soc\":50,\"ovp\":3.5}"), BMS_E_INVALID);
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_V], 3.6, 1e-5);
	/* the mapper alone: settings zeroed first, none without a map's */
	struct bms_jsonmap m2;
	map_of(&m2, "voltage:v");
	struct bms_snapshot snap;
	struct bms_settings set;
	char why[160];
	static const char one[] = "{\"v\":12.5,\"ovp\":3.65}";
	memset(&set, 0xA5, sizeof(set));
	CHECK_EQ_INT(bms_jsonmap_apply(&m2, one, strlen(one), &snap, &set, why, sizeof(why)), BMS_OK);
	CHECK(set.have == 0);
	CHECK(bms_jsonmap_settings(&m2) == 0);
}

/* What a message must be: a JSON object, its values of their type, finite, in range. */
static void test_rejects(void)
{
	struct bms_jsonmap m;
	map_of(&m, "voltage:v, current:i, soc:soc, cells:c, cycles:n, charge_mos:chg");
	struct bms_poll poll;
	static const struct {
		const char *msg;
		int rc;
	} bad[] = {
		{ "{\"v\":53.1,\"i\":1", BMS_E_INVALID },              /* cut short */
		{ "", BMS_E_INVALID },                                 /* empty */
		{ "[53.1]", BMS_E_INVALID },                           /* no object */
		{ "53.1", BMS_E_INVALID },
		{ "{\"i\":1,\"soc\":50}", BMS_E_INVALID },             /* no voltage */
		{ "{\"v\":53.1,\"soc\":50}", BMS_E_INVALID },          /* current mapped, missing */
		{ "{\"v\":53.1,\"i\":1}", BMS_E_INVALID },             /* soc mapped, missing */
		{ "{\"v\":\"53.1\",\"i\":1,\"soc\":50}", BMS_E_RANGE }, /* a string */
		{ "{\"v\":true,\"i\":1,\"soc\":50}", BMS_E_RANGE },     /* a boolean */
		{ "{\"v\":53.1,\"i\":1,\"soc\":101}", BMS_E_RANGE },
		{ "{\"v\":-1,\"i\":1,\"soc\":50}", BMS_E_RANGE },
		{ "{\"v\":1e308,\"i\":1,\"soc\":50}", BMS_E_RANGE },
		{ "{\"v\":53.1,\"i\":1e400,\"soc\":50}", BMS_E_INVALID }, /* jansson: real number overflow */
		{ "{\"v\":53.1,\"i\":1,\"soc\":50,\"n\":1.5}", BMS_E_RANGE },
		{ "{\"v\":53.1,\"i\":1,\"soc\":50,\"c\":[3.3,\"x\"]}", BMS_E_RANGE },
		{ "{\"v\":53.1,\"i\":1,\"soc\":50,\"c\":[3.3,7.0]}", BMS_E_RANGE },
		{ "{\"v\":53.1,\"i\":1,\"soc\":50,\"c\":[]}", BMS_E_RANGE },
		{ "{\"v\":53.1,\"i\":1,\"soc\":50,\"c\":3.3}", BMS_E_RANGE },
		{ "{\"v\":53.1,\"i\":1,\"soc\":50,\"chg\":2}", BMS_E_RANGE },
		{ "{\"v\":53.1,\"i\":1,\"soc\":50,\"chg\":\"yes\"}", BMS_E_RANGE },
		{ "{\"v\":53.1,\"v\":52,\"i\":1,\"soc\":50}", BMS_E_INVALID }, /* a key twice */
		{ "{\"v\":0,\"i\":1,\"soc\":50}", BMS_E_INVALID },      /* 0 V: no data (finish) */
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		begin(&poll, &m);
		int rc = feed(&poll, bad[k].msg);
		if (rc != bad[k].rc)
			fprintf(stderr, "message %u (%s): %d\n", k, bad[k].msg, rc);
		CHECK_EQ_INT(rc, bad[k].rc);
	}
	/* null is absent; a missing optional key is absent */
	begin(&poll, &m);
	CHECK_EQ_INT(feed(&poll, "{\"v\":53.1,\"i\":1,\"soc\":50,\"c\":null}"), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CELLS));
	/* a message longer than BMS_JSON_MSG_MAX is not carried: refused */
	static char big[BMS_JSON_MSG_MAX + 100];
	memset(big, ' ', sizeof(big) - 1);
	uint8_t rec[BMS_MSG_HDR + 8];
	size_t n = bms_msg_record(rec, sizeof(rec), big, strlen(big));
	CHECK_EQ_INT(n, BMS_MSG_HDR);
	size_t fl = 0;
	CHECK_EQ_INT(drv->scan(&poll, rec, n, &fl), BMS_SCAN_FRAME);
	CHECK(drv->handle(&poll, rec, n) < 0);
	/* no map: nothing decoded */
	begin(&poll, NULL);
	CHECK(feed(&poll, "{\"v\":53.1,\"i\":1,\"soc\":50}") < 0);
}

/* The framer: records back to back in chunks, garbage skipped. */
static void test_framing(void)
{
	struct bms_jsonmap m;
	map_of(&m, "voltage:v, soc:s");
	uint8_t buf[600];
	size_t len = 0;
	buf[len++] = 0x00; /* garbage */
	buf[len++] = BMS_MSG_MAGIC0;
	for (int i = 0; i < 2; i++) {
		char msg[64];
		snprintf(msg, sizeof(msg), "{\"v\":%d.5,\"s\":%d}", 50 + i, 60 + i);
		len += bms_msg_record(buf + len, sizeof(buf) - len, msg, strlen(msg));
	}
	struct bms_poll poll;
	begin(&poll, &m);
	static struct bms_rx rx;
	bms_rx_clear(&rx);
	struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, chunks_one, DRIVE_NCH(chunks_one));
	CHECK_EQ_INT(r.ok, 1); /* the first record completes the poll */
	CHECK_EQ_INT(r.err, 0);
	CHECK(r.skipped >= 1);
	CHECK_NEAR(poll.snap.voltage, 50.5, 1e-5);
	CHECK_NEAR(poll.snap.soc, 60, 1e-5);
}

static void test_map_parse(void)
{
	struct bms_jsonmap m;
	char why[160];
	CHECK_EQ_INT(bms_jsonmap_parse("voltage:v, soc:s", &m, why, sizeof(why)), 0);
	CHECK_EQ_INT(m.n, 2);
	CHECK(bms_jsonmap_has(&m, BMS_JF_VOLTAGE) && !bms_jsonmap_has(&m, BMS_JF_CURRENT));
	CHECK_EQ_INT(bms_jsonmap_parse("volts:v", &m, why, sizeof(why)), -1);
	CHECK(strstr(why, "volts") != NULL);
	CHECK_EQ_INT(bms_jsonmap_parse("voltage", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("voltage:v, voltage:w", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("voltage:", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("voltage:a..b", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("cell_0:c", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("cell_193:c", &m, why, sizeof(why)), -1); /* a snapshot holds 192 */
	CHECK_EQ_INT(bms_jsonmap_parse("temp_17:c", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("temp_0:c", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("alarm_nothing:c", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse(" , ", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("cell_32:a.b, temp_16:t, alarm_other:o", &m, why, sizeof(why)), 0);
	CHECK_EQ_INT(m.e[0].index, 31);
	CHECK_EQ_INT(m.e[1].index, 15);
	CHECK_EQ_INT(m.e[2].field, BMS_JF_ALARM);
	CHECK_EQ_INT(bms_jsonmap_parse("setting_nothing:c", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("setting_:c", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("setting:c", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("setting_cell_ovp_v:a, setting_cell_ovp_v:b", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("setting_cell_ovp_v:c#", &m, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_jsonmap_parse("setting_capacity_ah:cap, setting_cell_ovp_v:o", &m, why, sizeof(why)), 0);
	CHECK_EQ_INT(m.e[0].field, BMS_JF_SETTING);
	CHECK_EQ_INT(m.e[0].index, BMS_SET_CAPACITY_AH);
	CHECK_EQ_INT(m.e[1].index, BMS_SET_CELL_OVP_V);
}

int main(void)
{
	test_map_parse();
	test_venus();
	test_aiobmsble();
	test_esphome();
	test_hv_cells();
	test_rejects();
	test_settings();
	test_framing();
	return check_report();
}
