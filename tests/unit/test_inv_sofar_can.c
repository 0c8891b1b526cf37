/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_sofar_can.c - the sofar-can codec (gateway/inverter/
 * dialect/emu_sofar_can.c) byte for byte against PROTOCOLS.md §14: extended
 * identifiers plus the battery id times 0x1000, little endian, DLC 8; the
 * source's own bytes (§18 of the round's notes: Battery-Emulator's initial
 * 0x351 and 0x356, and its 0x355, 0x35E and 0x30F, decoded by the layout)
 * and frames this test encodes from the layout; the battery id in every
 * identifier (0, 3, 15); the SOC held at 99 %; a bank of strings' counts
 * and the identity overrides; the inverter's inquiries 0x605 / 0x705
 * (each inquiry's reply id, another battery's, unknown inquiries, short
 * frames, 11 and 29 bits); the safety rules, each a check that fails
 * without its rule: the fail-safe set (zero currents, both enables clear,
 * 0x30F still sent), a direction not allowed is 0 A with its enable clear,
 * silence outside 80-1000 V. */
#include "inv_check.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const F = &inv_codec_sofar_can;

#define SF_IS(b, base, hex) do { \
	struct gw_can_frame f_; \
	memset(&f_, 0, sizeof(f_)); \
	CHECK_EQ_INT(inv_can_frame(F, base, b, 0, &f_), 0); \
	CHECK(ext_frame_is(&f_, (base) + ((uint32_t)(b)->address << 12), hex)); \
} while (0)

/* S1, Battery-Emulator's initial data as a battery: CVL 224.6 V, CCL 25.0 A,
 * DCL 25.0 A, DVL 192.0 V; 210.2 V, +1.6 A, the hottest sensor 20.8 degC;
 * SOC 49 %, SOH 100 %; 70 cells of one pack, 50 Ah; "AMASS". */
static void battery_s1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_FULL | INV_HAS_ALARMS;
	b->cvl_v = 224.6f;
	b->ccl_a = 25.0f;
	b->dcl_a = 25.0f;
	b->dvl_v = 192.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 210.2f;
	b->current = 1.6f;
	b->temp_c = 19.9f;
	b->temp_max_c = 20.8f;
	b->temp_min_c = 19.0f;
	b->soc = 49.7f;
	b->soh = 100;
	b->full_ah = 50.6f;
	b->total_cells = 70;
	b->modules = 1;
	b->packs = 1;
	strcpy(b->manufacturer, "AMASS");
}

/* The set of S1 against the source's bytes, in order, at battery id 0. */
static void test_set(void)
{
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	static const uint32_t ids[] = { 0x351, 0x355, 0x356, 0x359, 0x35E, 0x35F, 0x30F };

	battery_s1(&b);
	CHECK_EQ_INT(inv_can_encode(F, &b, 0, f, INV_CAN_MAX_FRAMES, NULL), 7);
	for (int i = 0; i < 7; i++)
		CHECK(f[i].id == ids[i] && f[i].ext && f[i].dlc == 8 && !f[i].rtr);
	/* Battery-Emulator's initial 0x351 and 0x356 (§18) */
	CHECK(ext_frame_is(&f[0], 0x351, "C6 08 FA 00 FA 00 80 07"));
	CHECK(ext_frame_is(&f[2], 0x356, "36 08 10 00 D0 00 01 00"));
	/* its initial 0x355: SOC 49 %, SOH 100 %, FF FF F6 00 */
	CHECK(ext_frame_is(&f[1], 0x355, "31 00 64 00 FF FF F6 00"));
	/* one pack, one module, CAN version 1, 70 cells */
	CHECK(ext_frame_is(&f[3], 0x359, "01 01 01 46 00 00 00 00"));
	/* its initial 0x35E: "AMASS", zero padded */
	CHECK(ext_frame_is(&f[4], 0x35E, "41 4D 41 53 53 00 00 00"));
	/* Li-ion, 1.0.0, 50 Ah (down) */
	CHECK(ext_frame_is(&f[5], 0x35F, "01 01 00 00 32 00 00 00"));
	/* its initial 0x30F: normal, both enabled */
	CHECK(ext_frame_is(&f[6], 0x30F, "00 03 00 00 00 00 00 00"));
	LIMITS_ARE(F, &b, 250, 250);
	CHECK(!F->can.answers && !F->can.periods && !F->can.one_by_one && F->can.reply);
}

/* The battery id in every identifier; the SOC held at 99 %; a bank of two
 * strings of two; report_*; absent values; discharging. */
static void test_fields(void)
{
	struct inv_battery b;

	battery_s1(&b);
	b.address = 3;
	SF_IS(&b, 0x351, "C6 08 FA 00 FA 00 80 07");
	SF_IS(&b, 0x30F, "00 03 00 00 00 00 00 00");
	b.address = 15;
	SF_IS(&b, 0x35F, "01 01 00 00 32 00 00 00");
	battery_s1(&b);
	b.soc = 100;
	SF_IS(&b, 0x355, "63 00 64 00 FF FF F6 00");
	b.soc = 99.99f;
	SF_IS(&b, 0x355, "63 00 64 00 FF FF F6 00");
	/* no SOH: 100; discharging */
	b.present &= ~(uint32_t)INV_HAS_SOH;
	b.soc = 12.3f;
	b.current = -12.34f;
	SF_IS(&b, 0x355, "0C 00 64 00 FF FF F6 00");
	SF_IS(&b, 0x356, "36 08 85 FF D0 00 01 00");
	/* a bank of two strings of two 32-cell packs: 2 parallel, 2 in series, 64 cells */
	battery_s1(&b);
	b.packs = 4;
	b.modules = 2;
	b.total_cells = 64;
	SF_IS(&b, 0x359, "02 02 01 40 00 00 00 00");
	b.packs = 3; /* a member offline: one whole string */
	SF_IS(&b, 0x359, "01 02 01 40 00 00 00 00");
	b.report_modules = 5;
	b.total_cells = 300; /* more than a byte: 255 */
	SF_IS(&b, 0x359, "01 05 01 FF 00 00 00 00");
	/* unknown: 1 string, 1 module, 0 cells, 0 Ah, no temperature */
	battery_s1(&b);
	b.modules = 0;
	b.total_cells = 0;
	b.present &= ~(uint32_t)(INV_HAS_FULL | INV_HAS_TEMP | INV_HAS_TEMP_MINMAX);
	SF_IS(&b, 0x359, "01 01 01 00 00 00 00 00");
	SF_IS(&b, 0x35F, "01 01 00 00 00 00 00 00");
	SF_IS(&b, 0x356, "36 08 10 00 00 00 01 00");
	strcpy(b.manufacturer, "BMSGWABC");
	SF_IS(&b, 0x35E, "42 4D 53 47 57 41 42 43");
}

/* Safety: the fail-safe battery gives 0 A both ways and both enables
 * clear (0x30F still goes), the voltages kept; a direction not allowed is
 * 0 A and its enable clear; 0.04 A is 0. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_s1(&b);
	b.charge_allowed = b.discharge_allowed = false;
	b.failsafe = true;
	SF_IS(&b, 0x351, "C6 08 00 00 00 00 80 07");
	SF_IS(&b, 0x30F, "00 00 00 00 00 00 00 00");
	LIMITS_ARE(F, &b, 0, 0);
	battery_s1(&b);
	b.charge_allowed = false;
	SF_IS(&b, 0x351, "C6 08 00 00 FA 00 80 07");
	SF_IS(&b, 0x30F, "00 01 00 00 00 00 00 00");
	battery_s1(&b);
	b.dcl_a = 0.04f;
	SF_IS(&b, 0x351, "C6 08 FA 00 00 00 80 07");
	SF_IS(&b, 0x30F, "00 02 00 00 00 00 00 00");
	battery_s1(&b);
	b.cvl_v = 224.69f; /* down */
	b.dvl_v = 191.91f; /* up */
	SF_IS(&b, 0x351, "C6 08 FA 00 FA 00 80 07");
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	SF_IS(&b, 0x351, "00 00 00 00 00 00 00 00");
	SF_IS(&b, 0x30F, "00 00 00 00 00 00 00 00");
}

/* The reply of battery b to an inquiry: its frame, or none (want NULL). */
static void reply_is(const struct inv_battery *b, uint32_t id, bool ext, const char *req, uint32_t want_id,
		     const char *want)
{
	struct inv_heard h;
	struct gw_can_frame q = inv_mk(id, ext, req), out[INV_CAN_REPLY_MAX];

	memset(&h, 0, sizeof(h));
	enum inv_rx rx = F->can.heard(&q, &h);
	CHECK_EQ_INT(h.frames, 1);
	int n = F->can.reply(&q, b, out, INV_CAN_REPLY_MAX);
	if (!want) {
		CHECK_EQ_INT(n, 0);
		return;
	}
	CHECK_EQ_INT(rx, INV_RX_REQUEST);
	CHECK_EQ_INT(n, 1);
	CHECK(n == 1 && ext_frame_is(&out[0], want_id, want));
}

/* The inquiries: 0x605 (target, inquiry, sub-target) and 0x705 (target,
 * inquiry, record, sub-target) to battery 3, each inquiry its id; another
 * battery's, unknown inquiries, short frames: no reply. */
static void test_inquiries(void)
{
	struct inv_battery b;
	static const uint32_t realtime[] = { 0x670, 0x671, 0x680, 0x681 };
	static const uint32_t realtime_a[] = { 0x690, 0x691, 0x6A0, 0x6B0, 0x6C0 };
	static const uint32_t hist[] = { 0x770, 0x771, 0x772, 0x773, 0x780, 0x781, 0x782, 0x783, 0x784 };
	char req[32];

	battery_s1(&b);
	b.address = 3;
	reply_is(&b, 0x605, true, "03 00 05", 0x3670, "03 05 00 00 00 00 00 00");
	reply_is(&b, 0x605, false, "03 01 00 00 00 00 00 00", 0x3671, "03 00 00 00 00 00 00 00");
	for (unsigned q = 0; q < 4; q++) {
		snprintf(req, sizeof(req), "03 %02X 01", q);
		reply_is(&b, 0x605, true, req, realtime[q] + 0x3000, "03 01 00 00 00 00 00 00");
	}
	for (unsigned q = 0x0A; q <= 0x0E; q++) {
		snprintf(req, sizeof(req), "03 %02X 02", q);
		reply_is(&b, 0x605, true, req, realtime_a[q - 0x0A] + 0x3000, "03 02 00 00 00 00 00 00");
	}
	for (unsigned q = 0; q < 9; q++) {
		snprintf(req, sizeof(req), "03 %02X 07 02", q);
		reply_is(&b, 0x705, true, req, hist[q] + 0x3000, "03 02 07 00 00 00 00 00");
	}
	/* not ours: another battery, unknown inquiries */
	reply_is(&b, 0x605, true, "00 00 05", 0, NULL);
	reply_is(&b, 0x605, true, "03 04 00", 0, NULL);
	reply_is(&b, 0x605, true, "03 0F 00", 0, NULL);
	reply_is(&b, 0x705, true, "03 09 00 00", 0, NULL);
	/* too short: broken, no reply */
	struct inv_heard h;
	memset(&h, 0, sizeof(h));
	struct gw_can_frame q = inv_mk(0x605, true, "03 00");
	CHECK_EQ_INT(F->can.heard(&q, &h), INV_RX_BAD);
	q = inv_mk(0x705, true, "03 00 00");
	CHECK_EQ_INT(F->can.heard(&q, &h), INV_RX_BAD);
	struct gw_can_frame out[INV_CAN_REPLY_MAX];
	CHECK_EQ_INT(F->can.reply(&q, &b, out, INV_CAN_REPLY_MAX), 0);
	/* not the inverter: our own frames, remote frames */
	q = inv_mk(0x3351, true, "C6 08 FA 00 FA 00 80 07");
	CHECK_EQ_INT(F->can.heard(&q, &h), INV_RX_OTHER);
	q = inv_mk(0x3670, true, "03 00");
	CHECK_EQ_INT(F->can.heard(&q, &h), INV_RX_OTHER);
	q = inv_mk(0x605, true, "");
	q.rtr = true;
	CHECK_EQ_INT(F->can.heard(&q, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 2);
	CHECK_EQ_INT(h.asked, 0);
	/* battery 0 */
	b.address = 0;
	reply_is(&b, 0x705, true, "00 08 01 04", 0x784, "00 04 01 00 00 00 00 00");
}

/* Silent outside 80-1000 V; the row. */
static void test_row(void)
{
	static struct inv_out o;
	struct inv_battery b;
	double lo = 0, hi = 0;

	o.cfg.protocol = CONF_INV_SOFAR_CAN;
	o.codec = F;
	o.cfg.failsafe_silence = 30;
	battery_s1(&b);
	b.voltage = 79.9f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 0.0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 1000.0f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 1.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
	CHECK(inv_codec_of(CONF_INV_SOFAR_CAN) == F);
	CHECK_STR(inv_dialect_name(CONF_INV_SOFAR_CAN), "sofar-can");
	CHECK_EQ_INT(inv_dialect_bitrate(CONF_INV_SOFAR_CAN), 500000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_SOFAR_CAN), 0);
	CHECK(inv_dialect_volt_range(CONF_INV_SOFAR_CAN, &lo, &hi));
	CHECK_NEAR(lo, 80, 1e-9);
	CHECK_NEAR(hi, 1000, 1e-9);
}

int main(void)
{
	test_set();
	test_fields();
	test_failsafe();
	test_inquiries();
	test_row();
	return check_report();
}
