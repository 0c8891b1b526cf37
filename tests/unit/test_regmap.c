/* SPDX-License-Identifier: MIT */
/* tests/unit/test_regmap.c - the register map: float word order, scaling,
 * clamping, absent values, status registers, stale ranges, register-map.md. */
#include "../../registers/regmap.h"

#include <float.h>
#include <limits.h>
#include <stdlib.h>

#include "check.h"

/* Where every register starts (register-map.md: the core and the extension
 * block), with its width and kind: the test's own copy of the map, checked
 * against the encoder, reg_range_has_data() and the generated Markdown. */
struct expect_reg {
	unsigned off, width;
	int data; /* 1 data, 0 status */
};

static const struct expect_reg expect_map[] = {
	{ 0, 1, 1 }, { 1, 1, 1 }, { 2, 1, 1 }, { 3, 1, 1 }, { 4, 1, 1 }, { 5, 1, 1 }, { 6, 1, 1 },
	{ 7, 1, 1 }, { 8, 2, 1 }, { 10, 2, 1 }, { 12, 2, 1 }, { 14, 2, 1 }, { 17, 1, 1 }, { 18, 1, 1 },
	{ 20, 1, 1 }, { 21, 1, 1 }, { 22, 1, 1 }, { 23, 1, 1 }, { 24, 1, 1 }, { 25, 1, 1 },
	{ 26, 1, 1 }, { 27, 1, 1 }, { 28, 1, 1 }, { 29, 1, 1 }, { 30, 1, 1 }, { 31, 1, 1 },
	{ 32, 1, 1 }, { 33, 1, 1 }, { 34, 1, 1 }, { 35, 1, 1 },
	/* the heater */
	{ 36, 1, 1 }, { 37, 1, 1 }, { 38, 1, 1 }, { 39, 1, 1 },
	{ 40, 1, 1 }, { 41, 1, 0 }, { 42, 1, 0 }, { 43, 1, 0 }, { 44, 1, 1 }, { 45, 1, 0 },
	/* charge and discharge limits */
	{ 46, 1, 0 }, { 47, 1, 0 }, { 48, 1, 0 }, { 49, 1, 0 }, { 50, 1, 0 },
	{ 51, 1, 0 }, { 52, 1, 0 },
	{ 53, 1, 0 }, { 54, 1, 0 }, { 55, 1, 0 },
	{ 56, 1, 1 }, /* the heater's stop temperature */
	{ 58, 1, 0 }, { 59, 1, 0 }, { 60, 1, 1 }, { 61, 1, 1 }, { 62, 1, 1 }, { 63, 2, 1 },
	{ 65, 1, 1 }, { 66, 1, 1 },
	{ 67, 1, 1 }, { 68, 1, 1 }, { 69, 1, 1 }, { 70, 1, 1 }, { 71, 1, 1 }, { 72, 1, 1 },
	{ 73, 1, 1 }, { 74, 1, 1 },
	{ 75, 2, 1 }, { 77, 2, 1 }, { 79, 1, 1 }, { 80, 1, 1 }, { 81, 1, 1 }, { 82, 1, 1 },
	{ 83, 1, 1 }, { 84, 1, 1 }, { 85, 1, 1 }, { 86, 1, 1 }, { 87, 1, 1 }, { 88, 1, 1 },
	{ 89, 1, 1 }, { 90, 1, 1 }, { 91, 1, 1 }, { 92, 1, 1 }, { 93, 1, 1 }, { 94, 1, 1 },
	{ 95, 1, 1 }, { 96, 1, 1 }, { 97, 1, 1 }, { 98, 1, 1 },
	{ 99, 2, 0 }, { 101, 2, 0 }, { 103, 1, 0 }, { 104, 1, 1 },
	/* bank unit only */
	{ 105, 1, 0 }, { 106, 1, 0 }, { 107, 2, 0 }, { 109, 1, 1 }, { 110, 1, 1 }, { 111, 1, 1 },
	{ 112, 1, 1 }, { 113, 1, 1 }, { 114, 2, 1 },
	/* the wire's error counters */
	{ 116, 1, 0 }, { 117, 1, 0 }, { 118, 1, 0 },
	/* energy counters */
	{ 119, 2, 0 }, { 121, 2, 0 },
	/* control counters */
	{ 123, 1, 0 }, { 124, 1, 0 },
	/* the counted SOC: a second block */
	{ 125, 1, 0 }, { 126, 1, 0 }, { 127, 1, 0 }, { 128, 2, 0 }, { 130, 2, 0 }, { 132, 1, 0 }, { 133, 1, 0 },
	{ 134, 2, 0 }, { 136, 1, 0 }, { 137, 1, 0 },
	/* the bank's sources ([bank] shunt) */
	{ 138, 1, 0 },
	/* temperature sensors 9-16 */
	{ 139, 1, 1 }, { 140, 1, 1 }, { 141, 1, 1 }, { 142, 1, 1 }, { 143, 1, 1 }, { 144, 1, 1 },
	{ 145, 1, 1 }, { 146, 1, 1 },
	/* the counted SOC's uncertainty */
	{ 147, 1, 0 },
	/* the charge settings */
	{ 150, 1, 0 }, { 151, 1, 0 }, { 152, 1, 0 }, { 153, 1, 0 }, { 154, 1, 0 }, { 155, 2, 0 }, { 157, 1, 0 },
	{ 158, 1, 0 }, { 159, 1, 0 }, { 160, 1, 0 },
};
#define EXPECT_N (sizeof(expect_map) / sizeof(expect_map[0]))

/* -1 unused, 0 status, 1 data */
static int expect_kind_at(unsigned o)
{
	for (size_t i = 0; i < EXPECT_N; i++)
		if (o >= expect_map[i].off && o < expect_map[i].off + expect_map[i].width)
			return expect_map[i].data;
	return -1;
}

static uint16_t s16(int v)
{
	return (uint16_t)(int16_t)v;
}

static uint32_t float_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u;
}

static void test_float_wire(void)
{
	uint16_t r[2];

	reg_put_float(r, 53.25f, REG_FLOAT_CDAB);
	CHECK_EQ_INT(r[0], 0x0000);
	CHECK_EQ_INT(r[1], 0x4255);
	reg_put_float(r, 53.25f, REG_FLOAT_ABCD);
	CHECK_EQ_INT(r[0], 0x4255);
	CHECK_EQ_INT(r[1], 0x0000);

	/* -53.25 = 0xC2550000 */
	reg_put_float(r, -53.25f, REG_FLOAT_CDAB);
	CHECK_EQ_INT(r[0], 0x0000);
	CHECK_EQ_INT(r[1], 0xC255);
	reg_put_float(r, -53.25f, REG_FLOAT_ABCD);
	CHECK_EQ_INT(r[0], 0xC255);
	CHECK_EQ_INT(r[1], 0x0000);

	/* both words non-zero: 3.14159274 = 0x40490FDB, -12.34 = 0xC14570A4 */
	reg_put_float(r, 3.14159274f, REG_FLOAT_CDAB);
	CHECK_EQ_INT(r[0], 0x0FDB);
	CHECK_EQ_INT(r[1], 0x4049);
	reg_put_float(r, -12.34f, REG_FLOAT_CDAB);
	CHECK_EQ_INT(r[0], 0x70A4);
	CHECK_EQ_INT(r[1], 0xC145);
	reg_put_float(r, -12.34f, REG_FLOAT_ABCD);
	CHECK_EQ_INT(r[0], 0xC145);
	CHECK_EQ_INT(r[1], 0x70A4);

	/* decoding from wire words */
	const uint16_t cdab[2] = { 0x0000, 0x4255 }, abcd[2] = { 0x4255, 0x0000 };
	CHECK(reg_get_float(cdab, REG_FLOAT_CDAB) == 53.25f);
	CHECK(reg_get_float(abcd, REG_FLOAT_ABCD) == 53.25f);
	CHECK(reg_get_float(cdab, REG_FLOAT_ABCD) != 53.25f);

	/* round trip, bit exact, both orders */
	const float vals[] = { 0.0f, -0.0f, 1.0f, -1.0f, 53.25f, -657.1f, 3.3e-39f /* subnormal */,
			       FLT_MAX, -FLT_MAX, INFINITY, -INFINITY, 1e-7f, 123456.789f };
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		for (int fo = 0; fo < 2; fo++) {
			reg_put_float(r, vals[i], (enum reg_float_order)fo);
			CHECK_EQ_INT(float_bits(reg_get_float(r, (enum reg_float_order)fo)), float_bits(vals[i]));
		}
	reg_put_float(r, NAN, REG_FLOAT_CDAB);
	CHECK(isnan(reg_get_float(r, REG_FLOAT_CDAB)));
}

/* A pack with every field present. */
static void full_snapshot(struct bms_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		     BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_POWER;
	s->voltage = 53.25f;
	s->current = -12.34f;
	s->power = -657.1f;
	s->soc = 87.6f;
	s->soh = 98.4f;
	s->remain_ah = 100.26f;   /* 1002.6 -> 1003 (truncation would give 1002) */
	s->full_ah = 280.0f;
	s->cycles = 70000;        /* 0x00011170 */
	s->ncells = 16;
	for (int i = 0; i < 16; i++)
		s->cell_mv[i] = (uint16_t)(3300 + i);
	s->ntemps = 4;
	s->temp_c[0] = 21.5f;
	s->temp_c[1] = 22.5f;
	s->temp_c[2] = 23.0f;
	s->temp_c[3] = -4.04f;    /* -40.4 -> -40 */
	s->mos_temp_c = 35.26f;   /* 352.6 -> 353 */
	s->chg_mos = true;
	s->dsg_mos = false;
	s->balance = 0x00018001;
	s->alarms = BMS_AL_CELL_OV | BMS_AL_COMM;
	s->nraw = 2;
	s->raw_alarms[0] = 0x1234;
	s->raw_alarms[1] = 0xABCD;
	s->state = 2;
}

static void check_all(const uint16_t got[REG_MAP_SIZE], const uint16_t want[REG_MAP_SIZE], const char *what)
{
	int bad = 0;
	for (unsigned o = 0; o < REG_MAP_SIZE; o++)
		if (got[o] != want[o]) {
			fprintf(stderr, "  %s: offset %u = 0x%04X, want 0x%04X\n", what, o, got[o], want[o]);
			bad++;
		}
	CHECK_EQ_INT(bad, 0);
}

static void test_full_snapshot(void)
{
	struct bms_snapshot s;
	uint16_t regs[REG_MAP_SIZE], want[REG_MAP_SIZE] = { 0 };
	full_snapshot(&s);
	memset(regs, 0xAA, sizeof(regs)); /* everything not in the table must become 0 */
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);

	want[0] = 88;
	want[1] = 5325;
	want[2] = s16(-123);
	want[3] = s16(-657);
	want[4] = 15;
	want[5] = 3308;  /* (52920 + 8) / 16 */
	want[6] = 3315;
	want[7] = 3300;
	reg_put_float(want + 8, (float)((21.5 + 22.5 + 23.0 + (double)-4.04f) / 4), REG_FLOAT_CDAB);
	reg_put_float(want + 10, 53.25f, REG_FLOAT_CDAB);
	reg_put_float(want + 12, -12.34f, REG_FLOAT_CDAB);
	reg_put_float(want + 14, -657.1f, REG_FLOAT_CDAB);
	want[17] = 0;
	want[18] = 1;
	for (int i = 0; i < 16; i++)
		want[20 + i] = (uint16_t)(3300 + i);
	want[40] = 16;
	want[44] = 1003;
	want[60] = 876;
	want[61] = 98;
	want[62] = 2800;
	want[63] = 0x0001;
	want[64] = 0x1170;
	want[65] = 4;
	want[66] = 353;
	want[67] = 215;
	want[68] = 225;
	want[69] = 230;
	want[70] = s16(-40);
	for (int i = 71; i <= 74; i++)
		want[i] = 0x8000;
	for (int i = 139; i <= 146; i++)
		want[i] = 0x8000; /* sensors 9-16: beyond the four */
	want[75] = 0x0001;
	want[76] = 0x8001;
	want[77] = 0x0008;
	want[78] = 0x0001;
	want[79] = 0x1234;
	want[80] = 0xABCD;
	want[104] = 2;
	want[39] = want[56] = 0x8000; /* no heater settings */
	check_all(regs, want, "full cdab");

	/* spot checks of the core offsets in physical terms */
	CHECK_NEAR(reg_get_float(regs + 8, REG_FLOAT_CDAB), 15.74, 1e-4);
	CHECK(reg_get_float(regs + 10, REG_FLOAT_CDAB) == 53.25f);
	CHECK_EQ_INT(regs[10], 0x0000);
	CHECK_EQ_INT(regs[11], 0x4255);
	CHECK(reg_get_float(regs + 12, REG_FLOAT_CDAB) == -12.34f);
	CHECK(reg_get_float(regs + 14, REG_FLOAT_CDAB) == -657.1f);
	CHECK_EQ_INT((int16_t)regs[2], -123);
	CHECK_EQ_INT((int16_t)regs[3], -657);
	CHECK_EQ_INT(regs[2], 0xFF85);

	/* abcd swaps the float words only; u32 stays high word first */
	reg_encode_data(&s, REG_FLOAT_ABCD, regs);
	reg_put_float(want + 8, (float)((21.5 + 22.5 + 23.0 + (double)-4.04f) / 4), REG_FLOAT_ABCD);
	reg_put_float(want + 10, 53.25f, REG_FLOAT_ABCD);
	reg_put_float(want + 12, -12.34f, REG_FLOAT_ABCD);
	reg_put_float(want + 14, -657.1f, REG_FLOAT_ABCD);
	check_all(regs, want, "full abcd");
	CHECK_EQ_INT(regs[10], 0x4255);
	CHECK_EQ_INT(regs[11], 0x0000);
	CHECK_EQ_INT(regs[63], 0x0001);
	CHECK_EQ_INT(regs[64], 0x1170);

	/* a positive (charging) current and power */
	s.current = 25.0f;
	s.power = 1331.25f;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[2], 250);
	CHECK_EQ_INT(regs[3], 1331);
}

static void test_cells(void)
{
	struct bms_snapshot s;
	uint16_t regs[REG_MAP_SIZE];
	full_snapshot(&s);
	s.ncells = 32;
	for (int i = 0; i < 32; i++)
		s.cell_mv[i] = (uint16_t)(3000 + 10 * i);
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	for (int i = 0; i < 16; i++)
		CHECK_EQ_INT(regs[20 + i], 3000 + 10 * i);
	for (int i = 16; i < 32; i++)
		CHECK_EQ_INT(regs[83 + i - 16], 3000 + 10 * i);
	CHECK_EQ_INT(regs[40], 32);
	CHECK_EQ_INT(regs[6], 3310);
	CHECK_EQ_INT(regs[7], 3000);
	CHECK_EQ_INT(regs[4], 310);
	CHECK_EQ_INT(regs[5], 3155);
	for (int o = 36; o <= 38; o++)
		CHECK_EQ_INT(regs[o], 0); /* no heater */
	CHECK_EQ_INT(regs[39], 0x8000);
	CHECK_EQ_INT(regs[99], 0);

	/* 20 cells: 17..20 at 83..86, the rest 0 even though cell_mv[] holds values */
	s.ncells = 20;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[40], 20);
	for (int i = 16; i < 20; i++)
		CHECK_EQ_INT(regs[83 + i - 16], 3000 + 10 * i);
	for (int o = 87; o <= 98; o++)
		CHECK_EQ_INT(regs[o], 0);
	CHECK_EQ_INT(regs[6], 3190);

	/* 10 cells: 30..35 and 83..98 are 0 */
	s.ncells = 10;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[29], 3090);
	for (int o = 30; o <= 35; o++)
		CHECK_EQ_INT(regs[o], 0);
	for (int o = 83; o <= 98; o++)
		CHECK_EQ_INT(regs[o], 0);
	CHECK_EQ_INT(regs[40], 10);

	/* a corrupt count larger than the array is clamped */
	s.ncells = 200;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[40], BMS_MAX_CELLS);
	CHECK_EQ_INT(regs[98], 3310);
}

/* A BMS that sends no cell list, only its highest and lowest cell: offsets
 * 6 and 7 are they, 4 their difference, 5 (the mean) and the cells absent;
 * a list wins over them; the bank's mean absent once a pack gave only its
 * extremes. */
static void test_cell_extremes(void)
{
	struct bms_snapshot s;
	uint16_t regs[REG_MAP_SIZE];
	full_snapshot(&s);
	s.present &= ~(uint32_t)BMS_HAS_CELLS;
	s.ncells = 0;
	memset(s.cell_mv, 0, sizeof(s.cell_mv));
	bms_set_cell_ext(&s, 3255, 0, 3243, 0);
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[6], 3255);
	CHECK_EQ_INT(regs[7], 3243);
	CHECK_EQ_INT(regs[4], 12);
	CHECK_EQ_INT(regs[5], 0);
	CHECK_EQ_INT(regs[40], 0);
	for (int o = 20; o <= 35; o++)
		CHECK_EQ_INT(regs[o], 0);
	/* a list beside them gives the cells and the mean; the BMS's own lowest
	 * beyond the list's is the pack's lowest (issue 97: a list of one
	 * string of several in parallel), its highest within it changes nothing */
	s.present |= BMS_HAS_CELLS;
	s.ncells = 4;
	for (int i = 0; i < 4; i++)
		s.cell_mv[i] = (uint16_t)(3300 + i);
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[6], 3303);
	CHECK_EQ_INT(regs[7], 3243);
	CHECK_EQ_INT(regs[4], 60);
	CHECK_EQ_INT(regs[5], 3302);
	bms_set_cell_ext(&s, 3302, 0, 3301, 0);
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[6], 3303);
	CHECK_EQ_INT(regs[7], 3300);
	CHECK_EQ_INT(regs[4], 3);
	/* neither: absent */
	s.present &= ~(uint32_t)(BMS_HAS_CELLS | BMS_HAS_CELL_EXT);
	s.ncells = 0;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[4] | regs[5] | regs[6] | regs[7], 0);
	/* the bank */
	struct reg_bank b = { .have_cells = true, .no_avg = true, .min_mv = 3243, .max_mv = 3420, .avg_mv = 3300,
			      .min_pack = 2, .min_cell = 0, .max_pack = 1, .max_cell = 5 };
	reg_encode_bank(&s, &b, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[6], 3420);
	CHECK_EQ_INT(regs[7], 3243);
	CHECK_EQ_INT(regs[4], 177);
	CHECK_EQ_INT(regs[5], 0);
	CHECK_EQ_INT(regs[109], 2);
	CHECK_EQ_INT(regs[110], 0);
	CHECK_EQ_INT(regs[111], 1);
	CHECK_EQ_INT(regs[112], 5);
	b.no_avg = false;
	reg_encode_bank(&s, &b, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[5], 3300);
}

static void test_rounding(void)
{
	struct bms_snapshot s;
	uint16_t regs[REG_MAP_SIZE];
	full_snapshot(&s);

	s.soc = 49.6f;
	s.voltage = 3.999f;   /* 399.9 -> 400 */
	s.current = -0.06f;   /* -0.6 -> -1 */
	s.power = 10.7f;
	s.full_ah = 99.99f;   /* 999.9 -> 1000 */
	s.mos_temp_c = -0.26f;/* -2.6 -> -3 */
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[0], 50);
	CHECK_EQ_INT(regs[60], 496);
	CHECK_EQ_INT(regs[1], 400);
	CHECK_EQ_INT(regs[2], 0xFFFF);
	CHECK_EQ_INT(regs[3], 11);
	CHECK_EQ_INT(regs[62], 1000);
	CHECK_EQ_INT(regs[66], s16(-3));

	s.soc = 49.4f;
	s.current = 0.04f;
	s.power = -10.7f;
	s.soh = 99.5001f;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[0], 49);
	CHECK_EQ_INT(regs[60], 494);
	CHECK_EQ_INT(regs[2], 0);
	CHECK_EQ_INT(regs[3], s16(-11));
	CHECK_EQ_INT(regs[61], 100);
}

static void test_clamping(void)
{
	struct bms_snapshot s;
	uint16_t regs[REG_MAP_SIZE];
	full_snapshot(&s);

	s.voltage = 1e9f;
	s.current = 1e9f;
	s.power = -3e38f;
	s.soc = INFINITY;
	s.soh = -5.0f;
	s.remain_ah = 7000.0f;   /* 70000 > 65535 */
	s.full_ah = -FLT_MAX;
	s.mos_temp_c = 1e6f;
	s.temp_c[0] = -1e6f;
	s.temp_c[1] = -3276.8f;  /* -32768 must not become the 0x8000 sentinel */
	s.temp_c[2] = 3276.9f;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[1], 65535);
	CHECK_EQ_INT(regs[2], 32767);
	CHECK_EQ_INT(regs[3], s16(-32767));
	CHECK_EQ_INT(regs[3], 0x8001);
	CHECK_EQ_INT(regs[0], 65535);
	CHECK_EQ_INT(regs[60], 65535);
	CHECK_EQ_INT(regs[61], 0);
	CHECK_EQ_INT(regs[44], 65535);
	CHECK_EQ_INT(regs[62], 0);
	CHECK_EQ_INT(regs[66], 32767);
	CHECK_EQ_INT(regs[67], 0x8001);
	CHECK_EQ_INT(regs[68], 0x8001);
	CHECK_EQ_INT(regs[69], 32767);
	/* floats carry the value itself */
	CHECK(reg_get_float(regs + 10, REG_FLOAT_CDAB) == 1e9f);
	CHECK(reg_get_float(regs + 14, REG_FLOAT_CDAB) == -3e38f);

	s.current = -INFINITY;
	s.power = INFINITY;
	s.cycles = UINT32_MAX;
	s.balance = 0xFFFFFFFF;
	s.alarms = 0x80000000u;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[2], 0x8001);
	CHECK_EQ_INT(regs[3], 32767);
	CHECK_EQ_INT(regs[63], 0xFFFF);
	CHECK_EQ_INT(regs[64], 0xFFFF);
	CHECK_EQ_INT(regs[75], 0xFFFF);
	CHECK_EQ_INT(regs[76], 0xFFFF);
	CHECK_EQ_INT(regs[77], 0x8000);
	CHECK_EQ_INT(regs[78], 0x0000);
	CHECK(isinf(reg_get_float(regs + 12, REG_FLOAT_CDAB)));

	/* NaN values read as absent */
	s.current = NAN;
	s.voltage = NAN;
	s.temp_c[0] = NAN;
	s.mos_temp_c = NAN;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[2], 0);
	CHECK_EQ_INT(regs[1], 0);
	CHECK_EQ_INT(regs[10], 0);
	CHECK_EQ_INT(regs[11], 0);
	CHECK_EQ_INT(regs[12], 0);
	CHECK_EQ_INT(regs[13], 0);
	CHECK_EQ_INT(regs[67], 0x8000);
	CHECK_EQ_INT(regs[66], 0x8000);
	/* the average skips the NaN sensor: (-3276.8 + 3276.9 + -4.04) / 3 */
	CHECK_NEAR(reg_get_float(regs + 8, REG_FLOAT_CDAB), (-3276.8 + 3276.9 - 4.04) / 3, 1e-3);
}

/* Everything absent: 0, temperatures 0x8000, float temperature NaN. */
static void check_absent(const uint16_t regs[REG_MAP_SIZE], unsigned state)
{
	for (unsigned o = 0; o < REG_MAP_SIZE; o++) {
		unsigned want = 0;
		if ((o >= 66 && o <= 74) || (o >= 139 && o <= 146) || o == 39 || o == 56)
			want = 0x8000;
		else if (o == 104)
			want = state;
		if (o == 8 || o == 9)
			continue;
		if (regs[o] != want)
			fprintf(stderr, "  absent: offset %u = 0x%04X, want 0x%04X\n", o, regs[o], want);
		CHECK_EQ_INT(regs[o], want);
	}
	CHECK(isnan(reg_get_float(regs + 8, REG_FLOAT_CDAB)));
}

static void test_absent(void)
{
	struct bms_snapshot s;
	uint16_t regs[REG_MAP_SIZE];

	/* values everywhere, but no present bit */
	full_snapshot(&s);
	s.present = 0;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	check_absent(regs, 2);
	reg_encode_data(&s, REG_FLOAT_ABCD, regs);
	CHECK(isnan(reg_get_float(regs + 8, REG_FLOAT_ABCD)));

	/* never polled */
	memset(regs, 0x55, sizeof(regs));
	reg_encode_data(NULL, REG_FLOAT_CDAB, regs);
	check_absent(regs, 0);

	/* one field missing at a time */
	full_snapshot(&s);
	s.present &= ~(uint32_t)BMS_HAS_CURRENT;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[2], 0);
	CHECK_EQ_INT(regs[12], 0);
	CHECK_EQ_INT(regs[13], 0);
	CHECK_EQ_INT(regs[1], 5325);

	full_snapshot(&s);
	s.present &= ~(uint32_t)(BMS_HAS_SOH | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_BALANCE);
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[61], 0);
	CHECK_EQ_INT(regs[62], 0);
	CHECK_EQ_INT(regs[63], 0);
	CHECK_EQ_INT(regs[64], 0);
	CHECK_EQ_INT(regs[75], 0);
	CHECK_EQ_INT(regs[76], 0);
	CHECK_EQ_INT(regs[60], 876);

	full_snapshot(&s);
	s.present &= ~(uint32_t)BMS_HAS_CELLS;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	for (unsigned o = 4; o <= 7; o++)
		CHECK_EQ_INT(regs[o], 0);
	for (unsigned o = 20; o <= 35; o++)
		CHECK_EQ_INT(regs[o], 0);
	CHECK_EQ_INT(regs[40], 0);

	full_snapshot(&s);
	s.present &= ~(uint32_t)(BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_POWER | BMS_HAS_MOS_TEMP);
	s.dsg_mos = true;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[17], 0);
	CHECK_EQ_INT(regs[18], 0);
	for (unsigned o = 77; o <= 82; o++)
		CHECK_EQ_INT(regs[o], 0);
	CHECK_EQ_INT(regs[3], 0);
	CHECK_EQ_INT(regs[14], 0);
	CHECK_EQ_INT(regs[15], 0);
	CHECK_EQ_INT(regs[66], 0x8000);
	CHECK_EQ_INT(regs[67], 215);

	/* temperatures: sensors present but none valid, then two of eight */
	full_snapshot(&s);
	s.ntemps = 0;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK(isnan(reg_get_float(regs + 8, REG_FLOAT_CDAB)));
	CHECK_EQ_INT(regs[65], 0);
	for (unsigned o = 67; o <= 74; o++)
		CHECK_EQ_INT(regs[o], 0x8000);
	CHECK_EQ_INT(regs[66], 353);

	s.ntemps = 2;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK(reg_get_float(regs + 8, REG_FLOAT_CDAB) == 22.0f);
	CHECK_EQ_INT(regs[65], 2);
	CHECK_EQ_INT(regs[67], 215);
	CHECK_EQ_INT(regs[68], 225);
	for (unsigned o = 69; o <= 74; o++)
		CHECK_EQ_INT(regs[o], 0x8000);

	s.ntemps = 2;
	s.temp_c[0] = NAN;
	s.temp_c[1] = NAN;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK(isnan(reg_get_float(regs + 8, REG_FLOAT_CDAB)));
	CHECK_EQ_INT(regs[67], 0x8000);

	/* sixteen sensors (myvolta's twelve, and more): 1-8 at 67-74, 9-16 at
	 * 139-146, each absent beyond the count and where it does not read */
	full_snapshot(&s);
	s.ntemps = 16;
	for (unsigned i = 0; i < 16; i++)
		s.temp_c[i] = 10.0f + (float)i;
	s.temp_c[12] = NAN;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[65], 16);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ_INT(regs[67 + i], 100 + 10 * i);
	for (unsigned i = 8; i < 16; i++)
		CHECK_EQ_INT(regs[139 + i - 8], i == 12 ? 0x8000 : 100 + 10 * i);
	CHECK_NEAR(reg_get_float(regs + 8, REG_FLOAT_CDAB), (280.0 - 22.0) / 15.0, 1e-4); /* the fifteen that read */
	s.ntemps = 12;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[65], 12);
	CHECK_EQ_INT(regs[142], 100 + 10 * 11);
	for (unsigned o = 143; o <= 146; o++)
		CHECK_EQ_INT(regs[o], 0x8000);
	CHECK(reg_range_has_data(139, 1) && reg_range_has_data(146, 1) && reg_range_has_data(125, 36));
	CHECK(!reg_range_has_data(125, 14) && !reg_range_has_data(147, 14));

	/* raw words only as far as nraw goes */
	full_snapshot(&s);
	s.nraw = 4;
	s.raw_alarms[2] = 3;
	s.raw_alarms[3] = 4;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[81], 3);
	CHECK_EQ_INT(regs[82], 4);
	s.nraw = 1;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[79], 0x1234);
	CHECK_EQ_INT(regs[80], 0);
	CHECK_EQ_INT(regs[82], 0);
}

static void test_status(void)
{
	struct bms_snapshot s;
	uint16_t regs[REG_MAP_SIZE], data[REG_MAP_SIZE];
	struct reg_status st = {
		.online = true, .have_data = true, .age_s = 12, .heartbeat = 65000, .tz_hours = -5,
		.soc_max_today = 97, .soc_max_hour = 13, .soc_max_minute = 7,
		.good_polls = 100000, .failed_polls = 3, .protocol_id = 4,
		.wire_checksum_errors = 7, .wire_short_frames = 65536 + 2, .wire_timeouts = 65535,
		.energy_in_kwh = 1234.567, .energy_out_kwh = 0.004, .ctl_done = 3, .ctl_failed = 65537,
	};
	full_snapshot(&s);
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	memcpy(data, regs, sizeof(data));
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[41], 97);
	CHECK_EQ_INT(regs[42], 13);
	CHECK_EQ_INT(regs[43], 7);
	CHECK_EQ_INT(regs[45], 0);
	CHECK_EQ_INT(regs[51], 65000);
	CHECK_EQ_INT(regs[52], 0xFFFB);
	CHECK_EQ_INT((int16_t)regs[52], -5);
	CHECK_EQ_INT(regs[58], 1);
	CHECK_EQ_INT(regs[59], 12);
	CHECK_EQ_INT(regs[99], 0x0001);
	CHECK_EQ_INT(regs[100], 0x86A0);
	CHECK_EQ_INT(regs[101], 0);
	CHECK_EQ_INT(regs[102], 3);
	CHECK_EQ_INT(regs[103], 4);
	CHECK_EQ_INT(regs[116], 7);
	CHECK_EQ_INT(regs[117], 2);      /* counters wrap at 65536 */
	CHECK_EQ_INT(regs[118], 65535);
	CHECK_EQ_INT((uint32_t)regs[119] << 16 | regs[120], 123457); /* 0.01 kWh, rounded */
	CHECK_EQ_INT((uint32_t)regs[121] << 16 | regs[122], 0);
	CHECK_EQ_INT(regs[123], 3);
	CHECK_EQ_INT(regs[124], 1);
	CHECK_EQ_INT(regs[147], 0);
	/* the counted SOC's uncertainty: 0.1 %, 0xFFFF while not known, a
	 * value never reads as that */
	st.soc_band = 2.44;
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[147], 24);
	st.soc_band = NAN;
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[147], 0xFFFF);
	st.soc_band = 7000;
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[147], 0xFFFE);
	st.soc_band = 0;
	reg_encode_status(&st, 0, regs);
	/* status encoding leaves data and unused registers alone */
	int changed = 0;
	for (unsigned o = 0; o < REG_MAP_SIZE; o++)
		if (expect_kind_at(o) != 0 && regs[o] != data[o])
			changed++;
	CHECK_EQ_INT(changed, 0);
	/* ... and data encoding clears status registers */
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[58], 0);
	CHECK_EQ_INT(regs[103], 0);

	/* failure flag: alarms, stale, never polled */
	reg_encode_status(&st, BMS_AL_SHORT, regs);
	CHECK_EQ_INT(regs[45], 1);
	CHECK_EQ_INT(regs[58], 1);
	st.online = false;
	st.age_s = 31;
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[45], 1);
	CHECK_EQ_INT(regs[58], 0);
	CHECK_EQ_INT(regs[59], 31);
	st.age_s = 70000;
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[59], 65535);
	st.have_data = false;
	st.age_s = 0;
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[59], 65535);
	CHECK_EQ_INT(regs[58], 0);
	CHECK_EQ_INT(regs[45], 1);
	st.online = true; /* inconsistent input: never polled is never online */
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[58], 0);
	CHECK_EQ_INT(regs[45], 1);

	st.tz_hours = 14;
	st.failed_polls = UINT32_MAX;
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[52], 14);
	CHECK_EQ_INT(regs[101], 0xFFFF);
	CHECK_EQ_INT(regs[102], 0xFFFF);
}

/* The heater (36 on, 37 current 0.01 A, 38 heating enabled, 39 / 56 its
 * start / stop temperature): a JK-PB's; temperatures the BMS did not say
 * (NaN) 0x8000 as absent. */
static void test_heater(void)
{
	struct bms_snapshot s = { 0 };
	uint16_t regs[REG_MAP_SIZE];
	s.present = BMS_HAS_HEATER | BMS_HAS_HEATER_SET;
	s.heater_on = true;
	s.heater_a = 1.234f;
	s.heater_enabled = true;
	s.heat_start_c = -5.0f;
	s.heat_stop_c = 10.0f;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[36], 1);
	CHECK_EQ_INT(regs[37], 123);
	CHECK_EQ_INT(regs[38], 1);
	CHECK_EQ_INT(regs[39], s16(-5));
	CHECK_EQ_INT(regs[56], 10);
	s.heater_a = NAN; /* not transmitted (Chins NUS) */
	s.heat_start_c = s.heat_stop_c = NAN;
	s.heater_enabled = false;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[36], 1);
	CHECK_EQ_INT(regs[37], 0);
	CHECK_EQ_INT(regs[38], 0);
	CHECK_EQ_INT(regs[39], 0x8000);
	CHECK_EQ_INT(regs[56], 0x8000);
	s.present = BMS_HAS_HEATER;
	s.heater_on = false;
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	CHECK_EQ_INT(regs[36], 0);
	CHECK_EQ_INT(regs[39], 0x8000);
	CHECK(reg_offset(REG_SRC_HEATER_ON) == 36 && reg_offset(REG_SRC_HEAT_STOP) == 56);
}

static void test_range_has_data(void)
{
	/* status only */
	CHECK(!reg_range_has_data(58, 2));
	CHECK(!reg_range_has_data(41, 3));
	CHECK(!reg_range_has_data(45, 1));
	CHECK(!reg_range_has_data(51, 2));
	CHECK(!reg_range_has_data(99, 5));
	CHECK(!reg_range_has_data(102, 1));
	CHECK(!reg_range_has_data(50, 6)); /* status 51-55 */
	CHECK(reg_range_has_data(50, 10)); /* ... and the heater's 56 */
	/* data */
	CHECK(reg_range_has_data(0, 1));
	CHECK(reg_range_has_data(9, 1));    /* second word of a float */
	CHECK(reg_range_has_data(64, 1));   /* low word of the cycle count */
	CHECK(reg_range_has_data(104, 1));
	CHECK(reg_range_has_data(0, REG_MAP_SIZE));
	CHECK(reg_range_has_data(83, 16));
	/* mixed */
	CHECK(reg_range_has_data(57, 4));   /* 58-59 status, 60 data */
	CHECK(reg_range_has_data(103, 2));
	CHECK(reg_range_has_data(40, 6));
	CHECK(reg_range_has_data(45, 10) == false);
	/* gaps */
	CHECK(!reg_range_has_data(16, 1));
	CHECK(!reg_range_has_data(19, 1));
	CHECK(reg_range_has_data(36, 4)); /* the heater */
	CHECK(!reg_range_has_data(46, 5));
	CHECK(!reg_range_has_data(53, 3));
	CHECK(!reg_range_has_data(57, 1));
	CHECK(!reg_range_has_data(105, 4));  /* bank status */
	CHECK(reg_range_has_data(105, 5));   /* bank status, then data */
	CHECK(!reg_range_has_data(116, 9));
	CHECK(!reg_range_has_data(124, 1));
	CHECK(reg_range_has_data(16, 2));   /* gap then data */
	/* degenerate */
	CHECK(!reg_range_has_data(0, 0));
	CHECK(!reg_range_has_data(60, 0));
	CHECK(!reg_range_has_data(UINT_MAX - 1, 5));
	CHECK(!reg_range_has_data(125, 14)); /* the counted SOC and the bank's sources */
	CHECK(reg_range_has_data(125, 100));  /* ... and temperature sensors 9-16 */
	CHECK(!reg_range_has_data(147, 14));

	/* every single offset agrees with the expected map */
	int bad = 0;
	for (unsigned o = 0; o < REG_MAP_SIZE; o++)
		if (reg_range_has_data(o, 1) != (expect_kind_at(o) == 1)) {
			fprintf(stderr, "  has_data(%u) disagrees\n", o);
			bad++;
		}
	CHECK_EQ_INT(bad, 0);
}

static char *markdown(unsigned base, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	reg_write_markdown(f, base);
	fclose(f);
	return buf;
}

/* Cell n (0-based) of a Markdown table line "| a | b | ... |" into out. */
static bool md_cell(const char *line, size_t linelen, int n, char *out, size_t cap)
{
	const char *p = line, *end = line + linelen;
	for (int i = 0; i <= n; i++) {
		p = memchr(p, '|', (size_t)(end - p));
		if (!p)
			return false;
		p++;
	}
	const char *q = memchr(p, '|', (size_t)(end - p));
	if (!q)
		return false;
	while (p < q && *p == ' ')
		p++;
	while (q > p && q[-1] == ' ')
		q--;
	size_t n_ = (size_t)(q - p);
	if (n_ >= cap)
		return false;
	memcpy(out, p, n_);
	out[n_] = 0;
	return true;
}

static void test_markdown(void)
{
	size_t len, len2;
	char *md = markdown(290, &len);
	CHECK(md != NULL);
	if (!md)
		return;
	char *md2 = markdown(290, &len2);
	CHECK(md2 && len == len2 && memcmp(md, md2, len) == 0); /* deterministic */
	free(md2);

	const char *needles[] = {
		"# ", "290", "mbpoll -0", "address:", "cdab", "abcd", "swap: word", "125",
		"0x0B", "0x0A", "0x01", "0x02", "0x03", "stale_policy", "Unit 0 and 255",
		"high word first", "| 290 | 0 |", "| 298-299 | 8-9 |", "| 394 | 104 |",
		"| 373 | 83 | cell 17 |", "| 388 | 98 | cell 32 |", "0x8000", "NaN",
		"Unused offsets read 0: 16, 19, 57, 148-149.",
		"| 429 | 139 | temperature sensor 9 |", "| 436 | 146 | temperature sensor 16 |",
		"Status offsets: 41-43, 45-55, 58-59, 99-103, 105-108, 116-138, 147, 150-160 (addresses 331-333, 335-345, 348-349, 389-393, 395-398, 406-428, 437, 440-450)",
		"| 437 | 147 | SOC uncertainty | u16 | 0.1 % | status |", "0xFFFF (65535) when absent",
	};
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
		bool found = strstr(md, needles[i]) != NULL;
		if (!found)
			fprintf(stderr, "  markdown lacks \"%s\"\n", needles[i]);
		CHECK(found);
	}

	/* walk the register table: one row per expected register, in offset
	 * order, with address = base + offset and the right kind */
	bool seen[EXPECT_N] = { false };
	int rows = 0, bad = 0, alarm_rows = 0;
	long last = -1;
	char c0[64], c1[64], c5[64];
	for (const char *line = md; *line;) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		if (ll > 2 && line[0] == '|' && line[2] >= '0' && line[2] <= '9' &&
		    md_cell(line, ll, 0, c0, sizeof(c0)) && md_cell(line, ll, 1, c1, sizeof(c1))) {
			if (strncmp(c1, "0x", 2) == 0) {
				/* alarm bit table: | bit | mask | ... */
				unsigned bit = (unsigned)strtoul(c0, NULL, 10);
				if (strtoul(c1, NULL, 16) != (1ul << bit))
					bad++;
				alarm_rows++;
			} else if (md_cell(line, ll, 5, c5, sizeof(c5))) {
				char *e;
				unsigned addr = (unsigned)strtoul(c0, NULL, 10);
				unsigned off = (unsigned)strtoul(c1, &e, 10), width = 1;
				if (*e == '-')
					width = (unsigned)strtoul(e + 1, NULL, 10) - off + 1;
				rows++;
				if (addr != 290 + off || (long)off <= last || off + width > REG_MAP_SIZE)
					bad++;
				last = off;
				size_t k;
				for (k = 0; k < EXPECT_N && expect_map[k].off != off; k++)
					;
				if (k == EXPECT_N || expect_map[k].width != width ||
				    strcmp(c5, expect_map[k].data ? "data" : "status") != 0) {
					fprintf(stderr, "  unexpected markdown row %.*s\n", (int)ll, line);
					bad++;
				} else {
					seen[k] = true;
				}
			}
		}
		line += ll + (nl ? 1 : 0);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(rows, EXPECT_N);
	CHECK_EQ_INT(alarm_rows, BMS_AL_COUNT);
	int missing = 0;
	for (size_t k = 0; k < EXPECT_N; k++)
		if (!seen[k]) {
			fprintf(stderr, "  markdown lacks offset %u\n", expect_map[k].off);
			missing++;
		}
	CHECK_EQ_INT(missing, 0);
	free(md);

	/* another base shifts addresses only */
	md = markdown(100, &len);
	CHECK(md && strstr(md, "| 100 | 0 |") != NULL);
	CHECK(md && strstr(md, "| 204 | 104 |") != NULL);
	CHECK(md && strstr(md, "Base address: **100**") != NULL);
	free(md);
}

/* The limit registers 46-50 and 53-55: scales, rounding, clamping; they
 * are status (readable while stale) and 0 when nothing is set. */
static void test_limits(void)
{
	uint16_t regs[REG_MAP_SIZE];
	struct reg_status st = { 0 };
	reg_encode_status(&st, 0, regs);
	for (unsigned o = 46; o <= 55; o++)
		if (o != 51 && o != 52)
			CHECK_EQ_INT(regs[o], 0);
	st.lim.cvl_v = 55.2;
	st.lim.ccl_a = 49.96;
	st.lim.dcl_a = 60.0;
	st.lim.dvl_v = 46.4;
	st.lim.flags = 0x13;
	st.lim.mode = 2;
	st.lim.ccl_reason = 1;
	st.lim.dcl_reason = 8;
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[46], 5520);
	CHECK_EQ_INT(regs[47], 500); /* 0.1 A, rounded */
	CHECK_EQ_INT(regs[48], 600);
	CHECK_EQ_INT(regs[49], 4640);
	CHECK_EQ_INT(regs[50], 0x13);
	CHECK_EQ_INT(regs[53], 2);
	CHECK_EQ_INT(regs[54], 1);
	CHECK_EQ_INT(regs[55], 8);
	st.lim.cvl_v = 1000; /* beyond u16 at 0.01 V: clamped, never wrapped */
	st.lim.ccl_a = -3;
	reg_encode_status(&st, 0, regs);
	CHECK_EQ_INT(regs[46], 65535);
	CHECK_EQ_INT(regs[47], 0);
	CHECK(!reg_range_has_data(46, 5));
	CHECK(!reg_range_has_data(53, 3));
}

int main(void)
{
	test_limits();
	test_float_wire();
	test_full_snapshot();
	test_cells();
	test_cell_extremes();
	test_rounding();
	test_clamping();
	test_absent();
	test_status();
	test_heater();
	test_range_has_data();
	test_markdown();
	return check_report();
}
