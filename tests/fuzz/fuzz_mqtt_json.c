/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_mqtt_json.c - libFuzzer target: the mqtt-json field map
 * and mapper (bms/base/jsonmap.c) and its driver's framer (bms/mqtt_json.c).
 *
 * Input: the text up to the first newline is a `fields =` map (when it does
 * not parse, one of the fixed maps below, picked by its first byte); the
 * rest is the message, handed to the driver as the MQTT transport hands it
 * (one record), and the same bytes framed as a stream of records.
 * Invariants: no crash, no read past the message (ASan); a message taken
 * gives a snapshot whose every value is within the mapper's bounds, its
 * counts within the arrays, its voltage present, and settings only of keys
 * the map names, each within its unit's bounds; a message refused leaves
 * the snapshot and the settings empty; a record is framed back whole.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../bms/jsonmap.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const maps[] = {
	"voltage:v, current:i, soc:soc, cells:cells, temps_c:t, charge_mos:chg, alarm_cell_ov:ov",
	"voltage:Dc.Voltage, current:Dc.Current, power:Dc.Power, soc:Soc, full_ah:InstalledCapacity, "
	"remain_ah:Capacity, cycles:History.ChargeCycles, ccl_a:Info.MaxChargeCurrent, cell_1:Voltages.Cell1, "
	"cell_2:Voltages.Cell2, temp_1:Dc.Temperature, temps_c:T#",
	"voltage:voltage, current:current, soc:battery_level, cells:cell_voltages, temp_1:temp_values.0.0, "
	"cells_mv:mv, balancing:balancer, discharge_mos:dischrg_mosfet, soh:battery_health, dcl_a:d",
	"voltage:v, soc:soc, setting_cell_ovp_v:ovp, setting_pack_uvp_v:S.puvp, setting_charge_ocp_a:S.ocp, "
	"setting_charge_utp_c:S.utp, setting_cell_count:n, setting_capacity_ah:cap, setting_cell_ovp_delay_s:d",
};

/* The settings of a message taken: only keys the map names, each finite
 * and within its unit's bounds (bms/base/jsonmap.c). */
static void check_settings(const struct bms_settings *set, const struct bms_jsonmap *m)
{
	REQUIRE((set->have & ~bms_jsonmap_settings(m)) == 0);
	for (int k = 0; k < BMS_SET_COUNT; k++) {
		if (!bms_settings_has(set, (enum bms_set_key)k))
			continue;
		float v = set->v[k];
		const char *u = bms_settings_unit((enum bms_set_key)k);
		REQUIRE(isfinite(v));
		if (strcmp(u, "°C") == 0)
			REQUIRE(v >= BMS_PLAUSIBLE_MIN_C && v <= BMS_PLAUSIBLE_MAX_C);
		else if (k == BMS_SET_CELL_COUNT)
			REQUIRE(v >= 1 && v <= BMS_MAX_CELLS && v == floorf(v));
		else
			REQUIRE(v >= 0 && v <= BMS_PLAUSIBLE_MAX_A * 30);
	}
}

static void check_snap(const struct bms_snapshot *s)
{
	REQUIRE(s->present & BMS_HAS_VOLTAGE);
	REQUIRE(isfinite(s->voltage) && s->voltage >= 0 && s->voltage <= BMS_PLAUSIBLE_MAX_V);
	if (s->present & BMS_HAS_CURRENT)
		REQUIRE(isfinite(s->current) && fabsf(s->current) <= BMS_PLAUSIBLE_MAX_A);
	if (s->present & BMS_HAS_SOC)
		REQUIRE(s->soc >= 0 && s->soc <= 100);
	if (s->present & BMS_HAS_SOH)
		REQUIRE(s->soh >= 0 && s->soh <= 100);
	REQUIRE(s->ncells <= BMS_MAX_CELLS && s->ntemps <= BMS_MAX_TEMPS);
	REQUIRE(((s->present & BMS_HAS_CELLS) != 0) == (s->ncells > 0));
	for (unsigned i = 0; i < s->ncells; i++)
		REQUIRE(s->cell_mv[i] > 0 && s->cell_mv[i] <= BMS_PLAUSIBLE_MAX_CELL_MV);
	for (unsigned i = 0; i < s->ntemps; i++)
		REQUIRE(isnan(s->temp_c[i]) || (s->temp_c[i] >= BMS_PLAUSIBLE_MIN_C && s->temp_c[i] <= BMS_PLAUSIBLE_MAX_C));
	if (s->present & BMS_HAS_CYCLES)
		REQUIRE(s->cycles <= 100000);
	if (s->present & BMS_HAS_CUR_LIMITS)
		REQUIRE((isnan(s->bms_ccl_a) || (s->bms_ccl_a >= 0 && s->bms_ccl_a <= BMS_PLAUSIBLE_MAX_A)) &&
			(isnan(s->bms_dcl_a) || (s->bms_dcl_a >= 0 && s->bms_dcl_a <= BMS_PLAUSIBLE_MAX_A)));
	(void)bms_plausible(s, NULL);
}

/* every frame of a stream to handle(), as the poller does */
static enum bms_frame_next take(void *ctx, const uint8_t *f, size_t len)
{
	struct bms_poll *poll = ctx;
	size_t n = 0;
	REQUIRE(len >= BMS_MSG_HDR && bms_mqtt_json_driver.scan(poll, f, len, &n) == BMS_SCAN_FRAME && n == len);
	(void)bms_mqtt_json_driver.handle(poll, f, len);
	return BMS_FRAME_MORE;
}

static bool empty(const struct bms_snapshot *s)
{
	static const struct bms_snapshot zero;
	return memcmp(s, &zero, sizeof(zero)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t mlen = nl ? (size_t)(nl - data) : 0;
	char maptext[512];
	struct bms_jsonmap m;
	char why[160];
	if (mlen >= sizeof(maptext))
		mlen = sizeof(maptext) - 1;
	memcpy(maptext, data, mlen);
	maptext[mlen] = '\0';
	if (!nl || bms_jsonmap_parse(maptext, &m, why, sizeof(why)) < 0) {
		int rc = bms_jsonmap_parse(maps[size ? data[0] % 4 : 0], &m, why, sizeof(why));
		REQUIRE(rc == 0);
	}
	REQUIRE(m.n >= 1 && m.n <= BMS_JSON_MAP_MAX);
	const uint8_t *msg = nl ? nl + 1 : data;
	size_t n = size - (size_t)(msg - data);

	/* the mapper on the message, in a buffer of its own length (ASan sees a read past it) */
	char *text = malloc(n ? n : 1);
	if (!text)
		return 0;
	memcpy(text, msg, n);
	struct bms_snapshot s;
	struct bms_settings set;
	int rc = bms_jsonmap_apply(&m, text, n, &s, &set, why, sizeof(why));
	REQUIRE(rc == BMS_OK || rc == BMS_E_INVALID || rc == BMS_E_RANGE);
	if (rc == BMS_OK) {
		check_snap(&s);
		check_settings(&set, &m);
	} else {
		REQUIRE(empty(&s) && set.have == 0 && why[0]);
	}
	free(text);

	/* the driver: the message as one record, framed back whole */
	const struct bms_driver *d = &bms_mqtt_json_driver;
	static uint8_t rec[BMS_MSG_HDR + BMS_JSON_MSG_MAX];
	size_t rl = bms_msg_record(rec, sizeof(rec), msg, n);
	REQUIRE(rl == BMS_MSG_HDR + (n > BMS_JSON_MSG_MAX ? 0 : n));
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll)); /* a pack's first poll: nothing kept */
	bms_poll_begin(&poll, 0, 0, size & 1);
	poll.jsonmap = &m;
	size_t fl = 0;
	REQUIRE(d->scan(&poll, rec, rl, &fl) == BMS_SCAN_FRAME && fl == rl);
	int hrc = d->handle(&poll, rec, rl);
	if (hrc == BMS_OK && d->finish(&poll) == BMS_OK) {
		check_snap(&poll.snap);
		check_settings(&poll.kept.settings, &m);
	} else {
		REQUIRE(poll.kept.settings.have == 0); /* a refused message takes none */
	}
	/* the message's bytes taken as a stream of records: the framer never stalls */
	struct bms_frame_counts c = { 0 };
	bms_frames_buf(d, &poll, msg, n, take, &poll, &c);
	REQUIRE(c.bad_scan == 0);
	return 0;
}
