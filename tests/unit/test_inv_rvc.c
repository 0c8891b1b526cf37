/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_rvc.c - the rvc codec (gateway/inverter/dialect/emu_rvc.c), the
 * RV-C layouts it shares with the rvc BMS driver (bms/base/rvcdgn.c) and the J1939
 * address claim of its node (gateway/inverter/j1939.c), against the
 * sources' own bytes and this test's own encoding of PROTOCOLS.md §25:
 *
 * - the identifiers dbus-serialbattery reads a battery at (0x19FFFD8F,
 *   0x19FFFC8F, 0x19FFFB8F, 0x19FEC98F), CoachProxy-OS's id split;
 *   thomasonw/RV-C's "0x77359400 = 0A" and "0x7D00 = 0A";
 * - every DGN of the battery B1 byte for byte (instance, device priority
 *   120, 0.05 V, 0.001 A + 2e9 with + = out of the battery (discharging:
 *   the readers' and the captured REGO bank's sign), 0.03125 degC from -273,
 *   0.5 %, 1 Ah, 0.05 A + 32000), the clamps at the valid ranges, "not
 *   available" for what the source lacks;
 * - the safety rules: "do not charge" with 0 A whenever no charge current
 *   is allowed, the fail-safe battery's DC_SOURCE_STATUS_4 (do not charge,
 *   0 A, the CVL kept) and "not available" in every measurement, the
 *   limit reported as the field carries it (no discharge limit);
 * - the schedule on a fake clock (1FEC9 every second, the others every
 *   500 ms, 1FEC9 out of turn);
 * - J1939-81: the NAME, the claim frame, requests for it (global, to its
 *   address, to another, of another PGN, short), a rival with a higher NAME
 *   (defended), one with a lower NAME (the next free address), the
 *   addresses others hold skipped, none left (cannot claim from 254,
 *   silent), the 250 ms wait in 128-247 and none at 0-127;
 * - the round trip: what the output sends, read by bmsgw's own rvc BMS
 *   driver (bms/rvc.c), gives the source's values back, the current with
 *   its sign (charging and discharging). */
#include "inv_check.h"

#include <stdlib.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../bms/rvcdgn.h"
#include "../../gateway/inverter/j1939.h"

static const struct inv_codec *const R = &inv_codec_rvc;
static const struct bms_driver *const drv = &bms_rvc_driver; /* drive.h's */

#include "drive.h"

#define ID_DC1 0x19FFFD00u
#define ID_DC2 0x19FFFC00u
#define ID_DC3 0x19FFFB00u
#define ID_DC4 0x19FEC900u

static void rv_frame(uint32_t id, const struct inv_battery *b, const char *hex)
{
	struct gw_can_frame f;
	memset(&f, 0, sizeof(f));
	CHECK_EQ_INT(inv_can_frame(R, id, b, 0, &f), 0);
	CHECK(ext_frame_is(&f, id, hex));
}

static void test_ids(void)
{
	/* dbus-serialbattery's CAN_FRAMES: an RV-C battery at 0x8F */
	CHECK_EQ_INT(rvc_id(RVC_PRIO_DC, RVC_DC1, 0x8F), 0x19FFFD8F);
	CHECK_EQ_INT(rvc_id(RVC_PRIO_DC, RVC_DC2, 0x8F), 0x19FFFC8F);
	CHECK_EQ_INT(rvc_id(RVC_PRIO_DC, RVC_DC3, 0x8F), 0x19FFFB8F);
	CHECK_EQ_INT(rvc_id(RVC_PRIO_DC, RVC_DC4, 0x8F), 0x19FEC98F);
	CHECK_EQ_INT(rvc_id(RVC_PRIO_DC, RVC_DC6, 0x8F), 0x19FEC78F);
	CHECK_EQ_INT(rvc_id(RVC_PRIO_DC, RVC_DC11, 0x8F), 0x19FEA58F);
	/* CoachProxy-OS's split of candump's "19FFD442": priority 6, DGN 1FFD4, source 42 */
	CHECK_EQ_INT(rvc_id_dgn(0x19FFD442), 0x1FFD4);
	CHECK_EQ_INT(rvc_id_sa(0x19FFD442), 0x42);
	CHECK(rvc_is_dc(RVC_DC4) && !rvc_is_dc(0x1FFD4) && !rvc_is_dc(0x0EE00));
}

/* thomasonw/RV-C: "0x77359400 = 0A" (DC_SOURCE_STATUS_1 bytes 4-7) and
 * "0x7D00 = 0A" (DC_SOURCE_STATUS_4 bytes 5-6); CoachProxy-OS's scalings. */
static void test_scalings(void)
{
	unsigned char d[8];
	struct rvc_dc_raw r;
	rvc_raw_na(&r);
	CHECK_EQ_INT(check_hex("01 78 00 04 00 94 35 77", d, 8), 8);
	CHECK(rvc_get(RVC_DC1, d, 8, &r));
	CHECK_NEAR(rvc_amp32(r.current), 0, 1e-9);
	CHECK_NEAR(rvc_volt(r.voltage), 51.2, 1e-6);
	CHECK_EQ_INT(check_hex("01 78 01 50 04 00 7D F3", d, 8), 8);
	CHECK(rvc_get(RVC_DC4, d, 8, &r));
	CHECK_NEAR(rvc_amp16(r.ccl), 0, 1e-9);
	CHECK_EQ_INT(r.charge_state, RVC_CS_DO_NOT_CHARGE);
	CHECK_EQ_INT(r.type_byte & 0x0F, RVC_BT_LIFEPO4);
	CHECK_NEAR(rvc_temp(273 * 32), 0, 1e-9);
	CHECK_NEAR(rvc_temp(0x2532), 24.5625, 1e-6);
	CHECK_NEAR(rvc_pct(163), 81.5, 1e-9);
	CHECK_NEAR(rvc_amp32(0x773563CC), -12.34, 1e-6); /* - on the wire: into the battery, charging */
	CHECK_NEAR(rvc_amp16(0x80E8), 50, 1e-9);
	/* "not available", and nothing beyond the valid range, is no value */
	CHECK(isnan(rvc_volt(RVC_NA16)) && isnan(rvc_volt(0xFB00)) && !isnan(rvc_volt(RVC_MAX16)));
	CHECK(isnan(rvc_amp32(RVC_NA32)) && isnan(rvc_pct(RVC_NA8)) && isnan(rvc_pct(0xFB)) && !isnan(rvc_pct(0xFA)));
	CHECK(isnan(rvc_temp(0xFE00)) && isnan(rvc_amp16(0xFFFF)) && isnan(rvc_u16(0xFFFF)));
	/* short frames: not read, r untouched */
	r.soh = 7;
	CHECK(!rvc_get(RVC_DC3, d, 7, &r));
	CHECK_EQ_INT(r.soh, 7);
	CHECK(!rvc_get(0x1FFD4, d, 8, &r));
	CHECK(rvc_get(RVC_DC6, d, 5, &r) && !rvc_get(RVC_DC6, d, 4, &r)); /* bytes 2-4 */
	CHECK(rvc_get(RVC_DC11, d, 7, &r) && !rvc_get(RVC_DC11, d, 6, &r));
	/* the 2-bit states: 01 yes, 00 no, 10 / 11 neither */
	CHECK_EQ_INT(rvc_state2(0x01, RVC_DC6_HV_LIMIT), 1);
	CHECK_EQ_INT(rvc_state2(0x40, RVC_DC6_LV_DISCONNECT), 1);
	CHECK_EQ_INT(rvc_state2(0x30, RVC_DC6_LV_LIMIT), -1);
	CHECK_EQ_INT(rvc_state2(0x08, RVC_DC6_HV_DISCONNECT), -1);
	CHECK_EQ_INT(rvc_state2(0xF3, RVC_DC11_CHARGE), 0);
	/* put then get gives the fields back, the unused bytes all ones */
	struct rvc_dc_raw a, b2;
	rvc_raw_na(&a);
	a.instance = 2;
	a.priority = 120;
	a.dc11 = 0x05;
	a.full_ah = 280;
	a.power_w = 1234;
	CHECK(rvc_put(RVC_DC11, &a, d));
	CHECK_EQ_INT(d[7], 0xFF);
	rvc_raw_na(&b2);
	CHECK(rvc_get(RVC_DC11, d, 8, &b2));
	CHECK(b2.instance == 2 && b2.full_ah == 280 && b2.power_w == 1234 && b2.dc11 == 5);
	CHECK(!rvc_put(0x1FFD4, &a, d));
}

/* B1 (inv_check.h): 55.2 V, 50 A, SOC 81.6 %, SOH 97.4 %, 53.125 V,
 * -12.34 A (discharging), 24.56 degC; no remaining Ah; LFP; no charge machine. */
static void test_b1(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];

	battery_b1(&b);
	CHECK_EQ_INT(inv_can_encode(R, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 4);
	CHECK(ext_frame_is(&f[0], ID_DC4, "01 78 07 50 04 E8 80 F3"));
	CHECK(ext_frame_is(&f[1], ID_DC1, "01 78 27 04 34 C4 35 77")); /* discharging: + 12.34 A */
	CHECK(ext_frame_is(&f[2], ID_DC2, "01 78 32 25 A3 FF FF FF"));
	CHECK(ext_frame_is(&f[3], ID_DC3, "01 78 C3 FF FF FF FF FF"));
	struct inv_encoded e;
	CHECK(inv_can_encode(R, &b, 0, f, INV_CAN_MAX_FRAMES, &e) == 4);
	CHECK(e.limits && e.ccl_only);
	CHECK_NEAR(e.ccl_a, 50, 1e-9);
	CHECK_NEAR(e.dcl_a, 0, 1e-9);
	/* the instance, the remaining Ah (down), charging (+), the charge phases */
	b.instance = 3;
	b.remain_ah = 81.9f;
	b.present |= INV_HAS_REMAIN;
	b.current = 5.5f;
	rv_frame(ID_DC3, &b, "03 78 C3 51 00 FF FF FF");
	rv_frame(ID_DC1, &b, "03 78 27 04 84 7E 35 77"); /* charging: - 5.5 A */
	b.charge_phase = INV_PHASE_BULK;
	rv_frame(ID_DC4, &b, "03 78 02 50 04 E8 80 F3");
	b.charge_phase = INV_PHASE_ABSORPTION;
	rv_frame(ID_DC4, &b, "03 78 03 50 04 E8 80 F3");
	b.charge_phase = INV_PHASE_FLOAT;
	rv_frame(ID_DC4, &b, "03 78 06 50 04 E8 80 F3");
	/* NMC: no battery type of RV-C's */
	b.chemistry = 1;
	rv_frame(ID_DC4, &b, "03 78 06 50 04 E8 80 FF");
}

/* Safety: "do not charge" and 0 A whenever no charge current is allowed. */
static void test_no_charge(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.charge_phase = INV_PHASE_BULK;
	b.charge_allowed = false;
	rv_frame(ID_DC4, &b, "01 78 01 50 04 00 7D F3");
	LIMITS_ARE(R, &b, 0, 0);
	b.charge_allowed = true;
	b.ccl_a = 0.04f; /* under one 0.05 A step: 0 */
	rv_frame(ID_DC4, &b, "01 78 01 50 04 00 7D F3");
	b.ccl_a = 0.05f;
	rv_frame(ID_DC4, &b, "01 78 02 50 04 01 7D F3");
	/* no limits at all: do not charge, no voltage */
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	rv_frame(ID_DC4, &b, "01 78 01 FF FF 00 7D F3");
}

/* The fail-safe battery (invsource.c): do not charge, 0 A, the CVL kept;
 * every measurement "not available", never the last values as current. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.present |= INV_HAS_REMAIN;
	b.remain_ah = 50;
	b.ccl_a = b.dcl_a = 0;
	b.charge_allowed = b.discharge_allowed = false;
	b.failsafe = true;
	rv_frame(ID_DC4, &b, "01 78 01 50 04 00 7D F3");
	rv_frame(ID_DC1, &b, "01 78 FF FF FF FF FF FF");
	rv_frame(ID_DC2, &b, "01 78 FF FF FF FF FF FF");
	rv_frame(ID_DC3, &b, "01 78 FF FF FF FF FF FF");
	/* a flag left by a codec's caller cannot open the charge: failsafe wins */
	b.charge_allowed = true;
	b.ccl_a = 40;
	rv_frame(ID_DC4, &b, "01 78 01 50 04 00 7D F3");
	LIMITS_ARE(R, &b, 0, 0);
}

/* The valid ranges' ends, "not available" for what is absent. */
static void test_clamps(void)
{
	struct inv_battery b;

	battery_b1(&b);
	b.voltage = 4000;
	b.current = 3e6f;
	b.temp_c = -40;
	b.soc = 100;
	b.soh = 100;
	rv_frame(ID_DC1, &b, "01 78 FF FA 00 00 00 00"); /* charging: -2e6 A on the wire */
	rv_frame(ID_DC2, &b, "01 78 20 1D C8 FF FF FF");
	rv_frame(ID_DC3, &b, "01 78 C8 FF FF FF FF FF");
	b.current = -3e6f;
	b.temp_c = -300;
	rv_frame(ID_DC1, &b, "01 78 FF FA 00 28 6B EE");
	rv_frame(ID_DC2, &b, "01 78 00 00 C8 FF FF FF");
	b.ccl_a = 2000;
	b.cvl_v = 5000;
	rv_frame(ID_DC4, &b, "01 78 07 FF FA FF FA F3");
	b.voltage = NAN;
	b.temp_c = INFINITY;
	b.present &= ~(uint32_t)(INV_HAS_CURRENT | INV_HAS_SOC | INV_HAS_SOH);
	rv_frame(ID_DC1, &b, "01 78 FF FF FF FF FF FF");
	rv_frame(ID_DC2, &b, "01 78 FF FF FF FF FF FF");
	rv_frame(ID_DC3, &b, "01 78 FF FF FF FF FF FF");
}

static void test_heard(void)
{
	struct inv_heard h;
	memset(&h, 0, sizeof(h));
	struct gw_can_frame f = inv_mk(0x19FFC742, true, "01 02 03");
	CHECK_EQ_INT(R->can.heard(&f, &h), INV_RX_ALIVE);
	f = inv_mk(0x305, false, "00");
	CHECK_EQ_INT(R->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x19FFC742, true, "");
	f.rtr = true;
	CHECK_EQ_INT(R->can.heard(&f, &h), INV_RX_OTHER);
	f.rtr = false;
	f.dlc = 9;
	CHECK_EQ_INT(R->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 1);
	CHECK_EQ_INT(h.asked, 0);
}

/* 1FEC9 every second, the others every 500 ms; 1FEC9 out of turn. */
static void test_schedule(void)
{
	const struct inv_can_codec *c = &R->can;
	double due[INV_CAN_MAX_FRAMES] = { 0 }, now = 0, next;
	uint8_t pick[INV_CAN_MAX_FRAMES];
	int count[4] = { 0 }, steps = 0;

	CHECK(c->periods && c->claims && c->nframes == 4 && !c->answers && !c->one_by_one && !c->nident);
	CHECK(c->start == INV_START_DATA && c->limits_frame == 0 && !c->reply);
	CHECK_EQ_INT(inv_can_sched(c, due, false, now, 0, pick, &next), 4);
	CHECK_EQ_INT(pick[0], 0); /* the limits first */
	while (next <= 10.0 && steps++ < 100) {
		now = next;
		size_t n = inv_can_sched(c, due, false, now, 0, pick, &next);
		for (size_t k = 0; k < n; k++)
			count[pick[k]]++;
	}
	CHECK_EQ_INT(count[0], 10);
	CHECK_EQ_INT(count[1], 20);
	CHECK_EQ_INT(count[2], 20);
	CHECK_EQ_INT(count[3], 20);
	CHECK_EQ_INT(inv_can_sched(c, due, true, 10.2, 0, pick, &next), 1);
	CHECK_EQ_INT(pick[0], 0);
	CHECK_NEAR(due[0], 11, 1e-9);
}

static struct gw_can_frame jf(uint32_t id, const char *hex)
{
	return inv_mk(id, true, hex);
}

/* A claim of address sa by NAME name. */
static struct gw_can_frame claim(uint8_t sa, uint64_t name)
{
	struct gw_can_frame f = jf(0x18EEFF00u | sa, "");
	f.dlc = 8;
	for (int i = 0; i < 8; i++)
		f.data[i] = (uint8_t)(name >> (8 * i));
	return f;
}

static void test_claim(void)
{
	struct j1939_node n;
	struct gw_can_frame f, g;
	double at;
	uint64_t name = j1939_name(true, 0, 0, 2047, 0x12345);

	memset(&n, 0, sizeof(n));
	CHECK_EQ_INT(name, 0x80000000FFE12345ull);
	f = claim(0x8F, 1);
	CHECK_EQ_INT(j1939_heard(&n, &f, 0), J1939_H_NONE); /* not started */
	j1939_start(&n, name, 0x8F, 10.0);
	j1939_claim_frame(&n, &g);
	CHECK(ext_frame_is(&g, 0x18EEFF8F, "45 23 E1 FF 00 00 00 80"));
	CHECK_STR(j1939_state_name(&n, 10.1), "claiming");
	CHECK(!j1939_ready(&n, 10.2, &at));
	CHECK_NEAR(at, 10.25, 1e-9);
	CHECK(j1939_ready(&n, 10.25, &at));
	CHECK_STR(j1939_state_name(&n, 10.3), "held");
	/* requests for the claim: to everyone, to it; not to another, not of another PGN */
	f = jf(0x18EAFF44, "00 EE 00");
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_ANSWER);
	f = jf(0x18EA8F44, "00 EE 00 FF FF");
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_ANSWER);
	f = jf(0x18EA9044, "00 EE 00");
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_NONE);
	f = jf(0x18EAFF44, "FD FF 01"); /* a request for DC_SOURCE_STATUS_1 */
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_NONE);
	f = jf(0x18EAFF44, "00 EE");
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_NONE);
	f = jf(0x19EAFF44, "00 EE 00"); /* data page 1: DGN 1EAFF, no request */
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_NONE);
	f = inv_mk(0x6EA, false, "00 EE 00");
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_NONE);
	CHECK_EQ_INT(n.asked, 2);
	/* its own claim heard back, another node's cannot-claim, a short claim: nothing */
	f = claim(0x8F, name);
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_NONE);
	f = claim(J1939_NULL, 1);
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_NONE);
	f = claim(0x8F, 1);
	f.dlc = 7;
	CHECK_EQ_INT(j1939_heard(&n, &f, 11), J1939_H_NONE);
	/* a higher NAME on its address: defended */
	f = claim(0x8F, 0x80000000FFFFFFFFull);
	CHECK_EQ_INT(j1939_heard(&n, &f, 12), J1939_H_DEFEND);
	CHECK_EQ_INT(n.sa, 0x8F);
	CHECK_EQ_INT(n.defended, 1);
	/* another address claimed: noted, skipped later */
	f = claim(0x91, 5);
	CHECK_EQ_INT(j1939_heard(&n, &f, 12), J1939_H_TAKEN);
	/* a lower NAME takes it: the next free one, claimed now, held 250 ms later */
	f = claim(0x8F, 0x0000000000000001ull);
	CHECK_EQ_INT(j1939_heard(&n, &f, 20), J1939_H_MOVED);
	CHECK_EQ_INT(n.sa, 0x90);
	CHECK_EQ_INT(n.lost_sa, 0x8F);
	CHECK_EQ_INT(n.rival, 1);
	CHECK_EQ_INT(n.lost, 1);
	CHECK(!j1939_ready(&n, 20.1, &at));
	j1939_claim_frame(&n, &g);
	CHECK(ext_frame_is(&g, 0x18EEFF90, "45 23 E1 FF 00 00 00 80"));
	f = jf(0x18EA8F44, "00 EE 00"); /* the old address is no longer its */
	CHECK_EQ_INT(j1939_heard(&n, &f, 21), J1939_H_NONE);
	f = claim(0x90, 2);
	CHECK_EQ_INT(j1939_heard(&n, &f, 21), J1939_H_MOVED);
	CHECK_EQ_INT(n.sa, 0x92); /* 0x8F and 0x91 are others' */
	/* every address of 128-247 taken: cannot claim, from 254, silent */
	int moves = 0;
	while (n.state == J1939_CLAIMED && moves++ < 200) {
		f = claim(n.sa, 3);
		(void)j1939_heard(&n, &f, 30);
	}
	CHECK_EQ_INT(n.state, J1939_CANNOT);
	CHECK_EQ_INT(n.sa, J1939_NULL);
	CHECK_EQ_INT(moves, 120 - 4 + 1); /* 0x8F, 0x90, 0x91 lost or taken, 0x92 the start */
	CHECK(!j1939_ready(&n, 100, &at));
	CHECK_NEAR(at, 0, 1e-9);
	CHECK_STR(j1939_state_name(&n, 100), "cannot_claim");
	j1939_claim_frame(&n, &g);
	CHECK(ext_frame_is(&g, 0x18EEFFFE, "45 23 E1 FF 00 00 00 80"));
	f = jf(0x18EAFF44, "00 EE 00");
	CHECK_EQ_INT(j1939_heard(&n, &f, 101), J1939_H_ANSWER);
	f = jf(0x18EAFE44, "00 EE 00");
	CHECK_EQ_INT(j1939_heard(&n, &f, 101), J1939_H_NONE);
	double d = j1939_cannot_delay(&n);
	CHECK(d >= 0 && d <= 0.153);
}

/* At 0-127 (and 248-253) a node may start at once; losing one, it takes
 * the first free of 128-247; a preferred address beyond 253 is none. */
static void test_fixed_address(void)
{
	struct j1939_node n;
	struct gw_can_frame f;
	double at;

	memset(&n, 0, sizeof(n));
	j1939_start(&n, 0x8000000000000042ull, 0x44, 5.0);
	CHECK(j1939_ready(&n, 5.0, &at));
	f = claim(0x44, 7);
	CHECK_EQ_INT(j1939_heard(&n, &f, 6), J1939_H_MOVED);
	CHECK_EQ_INT(n.sa, 128);
	CHECK(!j1939_ready(&n, 6.1, &at) && j1939_ready(&n, 6.25, &at));
	j1939_start(&n, 0x8000000000000042ull, 254, 7.0);
	CHECK_EQ_INT(n.sa, 128);
	CHECK_EQ_INT(n.lost, 1); /* a start keeps the counters, forgets the addresses taken */
	CHECK_EQ_INT(n.taken[128 / 32], 0);
}

static void test_row(void)
{
	double lo, hi;
	CHECK(inv_codec_of(CONF_INV_RVC) == R);
	CHECK_STR(inv_dialect_name(CONF_INV_RVC), "rvc");
	CHECK(inv_dialect_kind(CONF_INV_RVC) == CONF_INV_CAN);
	CHECK_EQ_INT(inv_dialect_bitrate(CONF_INV_RVC), 250000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_RVC), 0);
	CHECK(!inv_dialect_volt_range(CONF_INV_RVC, &lo, &hi)); /* LV: 12 / 24 / 48 V */
	CHECK(inv_dialect_speech(CONF_INV_RVC) != NULL);
}

/* bmsgw's output read back by bmsgw's input: the frames of b, at source
 * address 0x8F, through the rvc BMS driver as the CAN transport hands them
 * over; the snapshot it finishes with. */
static struct bms_snapshot read_back(const struct inv_battery *b)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	uint8_t buf[512];
	size_t n = 0;
	int nf = inv_can_encode(R, b, 0, f, INV_CAN_MAX_FRAMES, NULL);
	CHECK_EQ_INT(nf, 4);
	for (int i = 0; i < nf; i++) {
		size_t k = bms_can_record(buf + n, sizeof(buf) - n, f[i].id | 0x8F, f[i].ext, f[i].rtr, f[i].dlc,
					  f[i].data);
		CHECK(k > 0);
		n += k;
	}
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 0x8F, 0, false);
	poll.persist = 0;
	struct drive_res r = drive_feed_bytes(&poll, &rx, buf, n, chunks_big, 1);
	CHECK_EQ_INT(r.err + r.unexpected, 0);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	return poll.snap;
}

/* The output and the input are each other's inverse: the current keeps its
 * sign both ways (PROTOCOLS.md §25), the other values their steps. */
static void test_round_trip(void)
{
	static const float amps[] = { -12.34f, 5.5f, 0, 250.125f, -0.001f };
	struct inv_battery b;
	battery_b1(&b);
	b.remain_ah = 81.9f;
	b.present |= INV_HAS_REMAIN;
	for (size_t i = 0; i < sizeof(amps) / sizeof(amps[0]); i++) {
		b.current = amps[i];
		struct bms_snapshot s = read_back(&b);
		CHECK(s.present & BMS_HAS_CURRENT);
		CHECK_NEAR(s.current, amps[i], 0.0005);
		CHECK_NEAR(s.voltage, 53.15, 1e-4); /* 0.05 V, nearest */
		CHECK_NEAR(s.soc, 81.5, 1e-4);      /* 0.5 %, down */
		CHECK_NEAR(s.soh, 97.5, 1e-4);
		CHECK_NEAR(s.remain_ah, 81, 1e-4);
		CHECK_NEAR(s.temp_c[0], 24.5625, 1e-4);
		CHECK_NEAR(s.bms_cvl_v, 55.2, 1e-4);
		CHECK_NEAR(s.bms_ccl_a, 50, 1e-4);
	}
}

int main(void)
{
	test_ids();
	test_scalings();
	test_b1();
	test_no_charge();
	test_failsafe();
	test_clamps();
	test_heard();
	test_schedule();
	test_claim();
	test_fixed_address();
	test_row();
	test_round_trip();
	return check_report();
}
