/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_sungrow_can.c - the sungrow-can codec (gateway/
 * inverter/dialect/emu_sungrow_can.c) byte for byte against PROTOCOLS.md §13: standard
 * identifiers, little endian, DLC 8; the source's own bytes (§18 of the
 * round's notes: Battery-Emulator's capture of the inverter's Modbus
 * request on 0x1E0 and the real battery's reply, whose CRCs this test
 * computes itself) and frames this test encodes from the layout: the
 * 0x7nn frames, their 0x0nn / 0x5nn copies, 0x504's turned current,
 * 0x005's end stop, the module frames of five modules, the serial numbers;
 * the module count's rule and report_modules; the inverter's frames (its
 * init and run frames moving the mode, Modbus requests good and broken);
 * the schedule on a fake clock (the init set every second, the run set
 * once the inverter runs, 10 s and 60 s groups, the limits out of turn);
 * the safety rules, each a check that fails without its rule: the
 * fail-safe frames (zero currents, end stop "full"), a direction not
 * allowed is 0 A, silence outside 108-584 V. */
#include "inv_check.h"

#include "../../gateway/inverter/invout.h"

static const struct inv_codec *const G = &inv_codec_sungrow_can;

/* Frame i of the table from b is the 11-bit id with the bytes of hex (or
 * none with hex NULL). */
static void sg_at(size_t i, const struct inv_battery *b, uint32_t id, const char *hex)
{
	struct gw_can_frame f;

	memset(&f, 0, sizeof(f));
	CHECK(i < G->can.nframes && G->can.frames[i].id == id);
	if (i >= G->can.nframes)
		return;
	bool got = G->can.frames[i].fill(b, &f);
	if (!hex) {
		CHECK(!got);
		return;
	}
	CHECK(got && frame_is(&f, id, hex));
	if (!frame_is(&f, id, hex)) {
		fprintf(stderr, "  frame %zu 0x%03X:", i, (unsigned)f.id);
		for (int k = 0; k < f.dlc; k++)
			fprintf(stderr, " %02X", f.data[k]);
		fprintf(stderr, " (want %s)\n", hex);
	}
}

/* The index of the n-th (0-based) frame of id in the table, or -1. */
static long sg_index(uint32_t id, int n)
{
	for (size_t i = 0; i < G->can.nframes; i++)
		if (G->can.frames[i].id == id && n-- == 0)
			return (long)i;
	return -1;
}

#define SG_IS(b, id, n, hex) sg_at((size_t)sg_index(id, n), b, id, hex)

/* G1: 96 LFP cells (nominal 307.2 V: five 64 V modules): CVL 350.4, DVL
 * 288.0, CCL 30.0, DCL 30.0 A; 320.5 V, -12.3 A, SOC 57.56 %, SOH 98.5 %,
 * 100 Ah full, 57.56 Ah left; sensors 25.3 degC (module 2, sensor 1) and
 * 22.1 degC (module 1, sensor 2), cells 3345 mV (module 3, cell 7) and
 * 3321 mV (module 1, cell 12); the machine's tag 3d1219c7. */
static void battery_g1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_CELL_MINMAX | INV_HAS_FULL | INV_HAS_REMAIN | INV_HAS_ALARMS;
	b->cvl_v = 350.4f;
	b->dvl_v = 288.0f;
	b->ccl_a = 30.0f;
	b->dcl_a = 30.0f;
	b->charge_allowed = b->discharge_allowed = true;
	b->voltage = 320.5f;
	b->current = -12.3f;
	b->soc = 57.56f;
	b->soh = 98.5f;
	b->full_ah = 100;
	b->remain_ah = 57.56f;
	b->temp_c = 23.7f;
	b->temp_max_c = 25.3f;
	b->temp_max_at = (struct inv_where){ 2, 1 };
	b->temp_min_c = 22.1f;
	b->temp_min_at = (struct inv_where){ 1, 2 };
	b->cell_max_mv = 3345;
	b->cell_max_at = (struct inv_where){ 3, 7 };
	b->cell_min_mv = 3321;
	b->cell_min_at = (struct inv_where){ 1, 12 };
	b->total_cells = 96;
	b->modules = 3;
	strcpy(b->machine_tag, "3d1219c7");
}

/* The 0x7nn frames of G1 and their copies. */
static void test_frames(void)
{
	struct inv_battery b;

	battery_g1(&b);
	/* 350.4 V, 288.0 V, 30.0 A, 30.0 A */
	SG_IS(&b, 0x701, 0, "B0 0D 40 0B 2C 01 2C 01");
	SG_IS(&b, 0x001, 0, "B0 0D 40 0B 2C 01 2C 01");
	SG_IS(&b, 0x501, 0, "B0 0D 40 0B 2C 01 2C 01");
	/* SOC 57.56 % and SOH 98.50 % in 0.01 %; 57.56 Ah x 307.2 V = 17682 Wh, 100 Ah: 30720 Wh */
	SG_IS(&b, 0x702, 0, "7C 16 7A 26 12 45 00 78");
	SG_IS(&b, 0x502, 0, "7C 16 7A 26 12 45 00 78");
	SG_IS(&b, 0x703, 0, "00 00 00 00 00 00 00 00");
	/* 320.5 V, -12.3 A (+ = charging), 320.5 V, the hottest 25.3 degC */
	SG_IS(&b, 0x704, 0, "85 0C 85 FF 85 0C FD 00");
	SG_IS(&b, 0x004, 0, "85 0C 85 FF 85 0C FD 00");
	SG_IS(&b, 0x504, 0, "85 0C 7B 00 85 0C FD 00"); /* the sign turned */
	/* run, end stop (0x005 only), 1, model 8420 + 5 = 8425, 320.5 V */
	SG_IS(&b, 0x705, 0, "02 00 01 E9 20 85 0C 00");
	SG_IS(&b, 0x505, 0, "02 00 01 E9 20 85 0C 00");
	SG_IS(&b, 0x005, 0, "02 00 01 E9 20 85 0C 00");
	SG_IS(&b, 0x706, 0, "FD 00 DD 00 11 0D F9 0C");
	SG_IS(&b, 0x006, 0, "FD 00 DD 00 11 0D F9 0C");
	/* firmware .30 / .1, 5 x 3200 Wh, 5 modules */
	SG_IS(&b, 0x707, 0, "30 00 00 01 80 3E 05 00");
	SG_IS(&b, 0x007, 0, "30 00 00 01 80 3E 05 00");
	SG_IS(&b, 0x708, 0, "00 42 4D 53 47 57 30 30"); /* "BMSGW00" */
	SG_IS(&b, 0x708, 1, "01 33 44 31 32 31 39 43"); /* "3D1219C" */
	SG_IS(&b, 0x008, 1, "01 33 44 31 32 31 39 43");
	SG_IS(&b, 0x70A, 0, "00 53 55 4E 47 52 4F 57"); /* "SUNGROW" */
	SG_IS(&b, 0x70A, 1, "01 00 42 52 58 58 58 00");
	SG_IS(&b, 0x00B, 0, "00 53 42 52 58 58 58 00"); /* "SBRXXX" */
	SG_IS(&b, 0x70D, 0, "0F 00 00 00 0F 00 00 00");
	SG_IS(&b, 0x00E, 0, "07 00 0F 00 00 00 00 00");
	SG_IS(&b, 0x709, 0, "00 00 00 00 00 00 00 00");
	SG_IS(&b, 0x700, 0, "00 00 00 00 00 00 00 00");
	/* the coldest (sensor 2 of module 1), the hottest (sensor 1 of module 2) */
	SG_IS(&b, 0x713, 0, "02 01 DD 00 01 02 FD 00");
	SG_IS(&b, 0x013, 0, "02 01 DD 00 01 02 FD 00");
	/* the highest first: cell 7 of module 3, 33450 x 0.1 mV; cell 12 of module 1, 33210 */
	SG_IS(&b, 0x714, 0, "07 03 AA 82 0C 01 BA 81");
	/* modules 1-5: lowest, highest each; none past 5 */
	SG_IS(&b, 0x715, 0, "BA 81 AA 82 BA 81 AA 82");
	SG_IS(&b, 0x716, 0, "BA 81 AA 82 BA 81 AA 82");
	SG_IS(&b, 0x717, 0, "BA 81 AA 82 00 00 00 00");
	SG_IS(&b, 0x018, 0, "00 00 00 00 00 00 00 00");
	SG_IS(&b, 0x719, 0, "02 00 00 00 00 00 00 00");
	SG_IS(&b, 0x71A, 0, "44 44 44 44 44 00 00 00");
	SG_IS(&b, 0x71B, 0, "3F 7A 6F 01 3F 7A 6F 01");
	SG_IS(&b, 0x71D, 0, "3F 7A 6F 01 00 00 00 00");
	SG_IS(&b, 0x01E, 0, "00 00 00 00 00 00 00 00");
	/* 0x70F: 5000, 5 x 1920 W twice; frozen 1-4; the SOC of modules 1-3, 4-5 */
	SG_IS(&b, 0x70F, 0, "00 00 88 13 80 25 80 25");
	SG_IS(&b, 0x70F, 2, "02 00 70 20 00 00 92 09");
	SG_IS(&b, 0x70F, 4, "04 00 0C 06 00 00 00 00");
	SG_IS(&b, 0x70F, 5, "05 00 7C 16 7C 16 7C 16");
	SG_IS(&b, 0x70F, 6, "06 00 7C 16 7C 16 00 00");
	SG_IS(&b, 0x70F, 7, "07 00 00 00 00 00 00 00");
	SG_IS(&b, 0x402, 0, "00 00 55 00 00 00 00 00");
	SG_IS(&b, 0x500, 0, "01 01 03 FF 00 01 00 39"); /* SOC 57 % */
	SG_IS(&b, 0x401, 0, "00 00 00 00 00 00 00 00");
	SG_IS(&b, 0x512, 0, "00 00 00 00 00 00 00 00");
	/* 0x71F: module 1's serial "BMSGW013D1219C7000000", six characters a fragment */
	SG_IS(&b, 0x71F, 0, "01 01 42 4D 53 47 57 30");
	SG_IS(&b, 0x71F, 1, "01 02 31 33 44 31 32 31");
	SG_IS(&b, 0x71F, 2, "01 03 39 43 37 30 30 30");
	SG_IS(&b, 0x71F, 14, "05 03 39 43 37 30 30 30");
	SG_IS(&b, 0x71F, 15, NULL); /* module 6 of 5 */
	LIMITS_ARE(G, &b, 300, 300);
}

/* The module count: the nominal voltage over 64 V, 2-8; report_modules;
 * the absent values. */
static void test_fields(void)
{
	struct inv_battery b;

	battery_g1(&b);
	b.total_cells = 32; /* 102.4 V: 1.6 -> 2 */
	SG_IS(&b, 0x707, 0, "30 00 00 01 00 19 02 00");
	b.total_cells = 200; /* 640 V: 10 -> 8 */
	SG_IS(&b, 0x707, 0, "30 00 00 01 00 64 08 00");
	b.report_modules = 3;
	SG_IS(&b, 0x707, 0, "30 00 00 01 80 25 03 00");
	SG_IS(&b, 0x705, 0, "02 00 01 E7 20 85 0C 00");
	SG_IS(&b, 0x71F, 8, "03 03 39 43 37 30 30 30");
	SG_IS(&b, 0x71F, 9, NULL);
	/* no cell count: the measured voltage, 320.5 / 64 = 5.0 */
	battery_g1(&b);
	b.total_cells = 0;
	SG_IS(&b, 0x707, 0, "30 00 00 01 80 3E 05 00");
	/* no extremes, no SOH, no capacity, no temperatures */
	b.present &= ~(uint32_t)(INV_HAS_CELL_MINMAX | INV_HAS_SOH | INV_HAS_FULL | INV_HAS_REMAIN | INV_HAS_TEMP |
				 INV_HAS_TEMP_MINMAX);
	SG_IS(&b, 0x706, 0, "00 00 00 00 00 00 00 00");
	SG_IS(&b, 0x714, 0, "00 00 00 00 00 00 00 00");
	SG_IS(&b, 0x713, 0, "00 00 00 00 00 00 00 00");
	SG_IS(&b, 0x702, 0, "7C 16 10 27 00 00 00 00");
	/* energies held at 65535 Wh */
	battery_g1(&b);
	b.full_ah = b.remain_ah = 300;
	SG_IS(&b, 0x702, 0, "7C 16 7A 26 FF FF FF FF");
}

/* Safety: the fail-safe battery gives 0 A both ways, the voltages kept,
 * 0x005's end stop "full"; a direction not allowed is 0 A; the end stop
 * "empty" at SOC 0 with a discharge current. */
static void test_failsafe(void)
{
	struct inv_battery b;

	battery_g1(&b);
	b.charge_allowed = b.discharge_allowed = false;
	b.failsafe = true;
	SG_IS(&b, 0x701, 0, "B0 0D 40 0B 00 00 00 00");
	SG_IS(&b, 0x501, 0, "B0 0D 40 0B 00 00 00 00");
	SG_IS(&b, 0x005, 0, "02 01 01 E9 20 85 0C 00");
	SG_IS(&b, 0x705, 0, "02 00 01 E9 20 85 0C 00"); /* the end stop only in 0x005 */
	LIMITS_ARE(G, &b, 0, 0);
	battery_g1(&b);
	b.discharge_allowed = false;
	SG_IS(&b, 0x001, 0, "B0 0D 40 0B 2C 01 00 00");
	SG_IS(&b, 0x005, 0, "02 00 01 E9 20 85 0C 00");
	battery_g1(&b);
	b.ccl_a = 0.04f; /* 0 in 0.1 A: full */
	SG_IS(&b, 0x005, 0, "02 01 01 E9 20 85 0C 00");
	battery_g1(&b);
	b.soc = 0.4f;
	SG_IS(&b, 0x005, 0, "02 02 01 E9 20 85 0C 00");
	SG_IS(&b, 0x500, 0, "01 01 03 FF 00 01 00 00");
	battery_g1(&b);
	b.cvl_v = 350.49f; /* down */
	b.dvl_v = 287.91f; /* up */
	SG_IS(&b, 0x701, 0, "B0 0D 40 0B 2C 01 2C 01");
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	SG_IS(&b, 0x701, 0, "00 00 00 00 00 00 00 00");
}

/* CRC-16/MODBUS, this test's own (poly 0xA001 reflected, init 0xFFFF). */
static unsigned crc16(const unsigned char *p, size_t n)
{
	unsigned c = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xA001 : c >> 1;
	}
	return c;
}

/* A request on 0x1E0: slave, function, start, count, its CRC. */
static struct gw_can_frame modbus_req(int slave, int fn, unsigned start, unsigned count)
{
	struct gw_can_frame f;
	unsigned char d[8] = { (unsigned char)slave, (unsigned char)fn, (unsigned char)(start >> 8),
			       (unsigned char)start, (unsigned char)(count >> 8), (unsigned char)count };
	unsigned c = crc16(d, 6);
	d[6] = (unsigned char)c;
	d[7] = (unsigned char)(c >> 8);
	memset(&f, 0, sizeof(f));
	f.id = 0x1E0;
	f.dlc = 8;
	memcpy(f.data, d, 8);
	return f;
}

/* The inverter's frames: 0x101 / 0x191 init, 0x108 / 0x109 run, the others
 * heard; Modbus on 0x1E0 (Battery-Emulator's capture of a real inverter and
 * battery, §18); our own frames, 29 bits, remote frames: not the inverter. */
static void test_heard_reply(void)
{
	struct inv_heard h;
	struct inv_battery b;
	struct gw_can_frame f, out[INV_CAN_REPLY_MAX];

	battery_g1(&b);
	memset(&h, 0, sizeof(h));
	f = inv_mk(0x108, false, "00 00 00 00 00 00 00 00");
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(h.mode, 1);
	CHECK_STR(G->can.mode_names[h.mode], "run");
	f = inv_mk(0x106, false, "00");
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(h.mode, 1);
	f = inv_mk(0x101, false, "64 5A 1B 66 00 00 00 00"); /* its init, the time */
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(h.mode, 0);
	CHECK_STR(G->can.mode_names[h.mode], "init");
	f = inv_mk(0x109, false, "");
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(h.mode, 1);
	f = inv_mk(0x191, false, "01");
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(h.mode, 0);
	/* the capture: FC 04 of 0x4DE2 x 2 -> 01 04 04 01 F4 00 00 BB | 8A */
	f = inv_mk(0x1E0, false, "01 04 4D E2 00 02 C6 91");
	CHECK_EQ_INT(crc16(f.data, 6), 0x91C6);
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(G->can.reply(&f, &b, out, INV_CAN_REPLY_MAX), 2);
	CHECK(frame_is(&out[0], 0x1E0, "01 04 04 01 F4 00 00 BB"));
	CHECK(frame_is(&out[1], 0x1E0, "8A"));
	unsigned char whole[9];
	memcpy(whole, out[0].data, 8);
	whole[8] = out[1].data[0];
	CHECK_EQ_INT(crc16(whole, 7), 0x8ABB);
	/* all six (03): 500, 0, 300, 0, 200, 0 in 17 bytes: 8, 8, 1 */
	unsigned char all[17] = { 0x01, 0x03, 0x0C, 0x01, 0xF4, 0, 0, 0x01, 0x2C, 0, 0, 0x00, 0xC8, 0, 0 };
	unsigned cr = crc16(all, 15);
	all[15] = (unsigned char)cr;
	all[16] = (unsigned char)(cr >> 8);
	f = modbus_req(1, 3, 0x4DE2, 6);
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(G->can.reply(&f, &b, out, INV_CAN_REPLY_MAX), 3);
	CHECK(out[0].id == 0x1E0 && !out[0].ext && out[0].dlc == 8 && memcmp(out[0].data, all, 8) == 0);
	CHECK(out[1].id == 0x1E0 && out[1].dlc == 8 && memcmp(out[1].data, all + 8, 8) == 0);
	CHECK(out[2].id == 0x1E0 && out[2].dlc == 1 && out[2].data[0] == all[16]);
	/* no reply: 0 or 7 registers, another start, another slave, function 06 */
	f = modbus_req(1, 4, 0x4DE2, 7);
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_REQUEST);
	CHECK_EQ_INT(G->can.reply(&f, &b, out, INV_CAN_REPLY_MAX), 0);
	f = modbus_req(1, 4, 0x4DE2, 0);
	CHECK_EQ_INT(G->can.reply(&f, &b, out, INV_CAN_REPLY_MAX), 0);
	f = modbus_req(1, 4, 0x4DE3, 1);
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(G->can.reply(&f, &b, out, INV_CAN_REPLY_MAX), 0);
	f = modbus_req(2, 4, 0x4DE2, 1);
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_ALIVE);
	f = modbus_req(1, 6, 0x4DE2, 1);
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_ALIVE);
	CHECK_EQ_INT(G->can.reply(&f, &b, out, INV_CAN_REPLY_MAX), 0);
	/* a bad CRC, 7 bytes: broken */
	f = inv_mk(0x1E0, false, "01 04 4D E2 00 02 C6 92");
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_BAD);
	CHECK_EQ_INT(G->can.reply(&f, &b, out, INV_CAN_REPLY_MAX), 0);
	f = inv_mk(0x1E0, false, "01 04 4D E2 00 02 C6");
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_BAD);
	CHECK_EQ_INT(h.frames, 13);
	/* not the inverter */
	f = inv_mk(0x108, true, "00");
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x501, false, "B0 0D 40 0B 2C 01 2C 01");
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x10A, false, "00");
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_OTHER);
	f = inv_mk(0x108, false, "");
	f.rtr = true;
	CHECK_EQ_INT(G->can.heard(&f, &h), INV_RX_OTHER);
	CHECK_EQ_INT(h.frames, 13);
	CHECK_EQ_INT(h.mode, 0);
	CHECK_EQ_INT(h.asked, 0);
}

/* How many of pick[0..n) are frame id. */
static int picked(const uint8_t *pick, size_t n, uint32_t id)
{
	int k = 0;
	for (size_t i = 0; i < n; i++)
		k += G->can.frames[pick[i]].id == id;
	return k;
}

/* The schedule on a fake clock: the init set and the 10 s and 60 s groups
 * at the start; the init set each second; the run set from the mode's
 * change; 10 s and 60 s; the limits and end stop out of turn. */
static void test_schedule(void)
{
	const struct inv_can_codec *c = &G->can;
	double due[INV_CAN_MAX_FRAMES] = { 0 }, next;
	uint8_t pick[INV_CAN_MAX_FRAMES];

	CHECK(c->periods && c->start == INV_START_DATA && c->reply && !c->answers && c->nframes == 98);
	CHECK(c->nframes <= INV_CAN_MAX_FRAMES);
	CHECK_EQ_INT(c->frames[c->limits_frame].id, 0x501);
	for (size_t i = 0; i < c->nframes; i++)
		CHECK(c->periods[i].s == 1 || c->periods[i].s == 10 || c->periods[i].s == 60);
	/* t = 0, init: head 3 + init 9 + tail 7 + 10 s 9 + 60 s 24 */
	size_t n = inv_can_sched(c, due, false, 0, 0, pick, &next);
	CHECK_EQ_INT(n, 52);
	CHECK(c->frames[pick[0]].id == 0x402 && c->frames[pick[3]].id == 0x007 && c->frames[pick[12]].id == 0x512);
	CHECK_EQ_INT(picked(pick, n, 0x701), 0);
	CHECK_EQ_INT(picked(pick, n, 0x71F), 24);
	CHECK_NEAR(next, 1, 1e-9);
	/* out of turn at 0.5 in init: 0x501 alone, the schedule unchanged */
	n = inv_can_sched(c, due, true, 0.5, 0, pick, &next);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(c->frames[pick[0]].id, 0x501);
	CHECK_NEAR(next, 1, 1e-9);
	n = inv_can_sched(c, due, false, 1.0011, 0, pick, &next); /* a late timer */
	CHECK_EQ_INT(n, 19);
	CHECK_EQ_INT(picked(pick, n, 0x00A), 2);
	/* run from t = 2: head 3 + run 46 + tail 7, the run frames on the others' beat */
	n = inv_can_sched(c, due, false, 2.0011, 1, pick, &next);
	CHECK_EQ_INT(n, 56);
	CHECK_EQ_INT(picked(pick, n, 0x007) + picked(pick, n, 0x00A), 0);
	CHECK_EQ_INT(picked(pick, n, 0x70F), 8);
	CHECK(c->frames[pick[3]].id == 0x000 && c->frames[pick[49]].id == 0x512);
	CHECK_NEAR(next, 3, 1e-9);
	/* out of turn at 2.5 in run: 0x001, 0x005, 0x701, 0x501 */
	n = inv_can_sched(c, due, true, 2.5, 1, pick, &next);
	CHECK_EQ_INT(n, 4);
	CHECK(c->frames[pick[0]].id == 0x001 && c->frames[pick[1]].id == 0x005 && c->frames[pick[2]].id == 0x701 &&
	      c->frames[pick[3]].id == 0x501);
	n = inv_can_sched(c, due, false, 3, 1, pick, &next);
	CHECK_EQ_INT(n, 56); /* one step a second, all together */
	CHECK_NEAR(next, 4, 1e-9);
	int sets = 1, tens = 0, sixties = 0;
	for (double t = 4; t <= 120.5; t += 1) {
		n = inv_can_sched(c, due, false, t, 1, pick, &next);
		sets += picked(pick, n, 0x501);
		tens += picked(pick, n, 0x707);
		sixties += picked(pick, n, 0x71F) == 24;
		CHECK_NEAR(next, t + 1, 1e-9);
	}
	CHECK_EQ_INT(sets, 118);
	CHECK_EQ_INT(tens, 12);   /* 10, 20 ... 120 */
	CHECK_EQ_INT(sixties, 2); /* 60, 120 */
}

/* Safety: silent outside 108-584 V; the row. */
static void test_range(void)
{
	static struct inv_out o;
	struct inv_battery b;
	double lo = 0, hi = 0;

	o.cfg.protocol = CONF_INV_SUNGROW_CAN;
	o.codec = G;
	o.cfg.failsafe_silence = 30;
	battery_g1(&b);
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 0.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
	b.voltage = 107.9f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 1.0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	b.voltage = 108.0f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 2.0);
	CHECK_EQ_INT(o.state, INV_SENDING);
	b.voltage = 584.1f;
	inv_check_range(&o, &b);
	inv_update_state(&o, true, true, 3.0);
	CHECK_EQ_INT(o.state, INV_OUT_OF_RANGE);
	CHECK(inv_codec_of(CONF_INV_SUNGROW_CAN) == G);
	CHECK_STR(inv_dialect_name(CONF_INV_SUNGROW_CAN), "sungrow-can");
	CHECK_EQ_INT(inv_dialect_bitrate(CONF_INV_SUNGROW_CAN), 250000);
	CHECK_EQ_INT(inv_dialect_allowed_extras(CONF_INV_SUNGROW_CAN), 0);
	CHECK(inv_dialect_volt_range(CONF_INV_SUNGROW_CAN, &lo, &hi));
	CHECK_NEAR(lo, 108, 1e-9);
	CHECK_NEAR(hi, 584, 1e-9);
}

int main(void)
{
	test_frames();
	test_fields();
	test_failsafe();
	test_heard_reply();
	test_schedule();
	test_range();
	return check_report();
}
