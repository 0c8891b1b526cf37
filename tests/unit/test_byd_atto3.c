/* SPDX-License-Identifier: MIT */
/* tests/unit/test_byd_atto3.c - a BYD Atto 3 (Blade) pack read listen
 * only (bms/byd_atto3.c, bms/PROTOCOLS.md §90), on ATTO-01 of
 * tests/fixtures/vectors.tsv (Battery-Emulator's 5_BydAtto3_base):
 * 420.0 V (0x438's, 0x444's whole volts beside it), 0 A, SOC 99.2 %
 * (0x447's, 0x444's 99 beside it), SOH 99 %, 8..24 degC; its check bytes
 * (NOT the sum of b0-b6) each flipped in turn: the frame dropped whole
 * and counted (0x43A's too, which is not decoded), the poll whole from
 * the others or failed and learned again; the 126 cells of 0x43D built
 * from the layout (0xFFF a module not fitted), the modules' temperatures
 * of 0x43C, the BMS's extremes of 0x446; a cell of 256 mV refused. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_byd_atto3_driver;

#include "hv_check.h"

#define ATTO_01 "438#555501D6476810BF 444#A4018813636300F9 43A#7E0A901A000000CD 447#09300140E003386A " \
	"244#0000000000000000"

static char full[8192];

/* ATTO-01 with 0x446 (cell 7 the lowest 3290, cell 100 the highest 3350),
 * the cells (cell i 3290 + i % 61 mV; n of them, 0xFFF past the last) and
 * both frames of the modules' temperatures (20..31 degC). */
static void build(int n)
{
	size_t o = (size_t)snprintf(full, sizeof(full), "%s 446#07DA0C0064160D00", ATTO_01);
	for (int f = 0; 3 * f < n; f++) {
		o += (size_t)snprintf(full + o, sizeof(full) - o, " 43D#%02X", f);
		for (int i = 0; i < 3; i++) {
			int c = 3 * f + i, mv = c < n ? 3290 + c % 61 : 0xFFF;
			o += (size_t)snprintf(full + o, sizeof(full) - o, "%02X%02X", mv & 0xFF, (mv >> 8) & 0x0F);
		}
		o += (size_t)snprintf(full + o, sizeof(full) - o, "00");
	}
	o += (size_t)snprintf(full + o, sizeof(full) - o, " 43C#003C3D3E3F404100 43C#014243444546FF00");
}

static void test_vector(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, ATTO_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 420.0, 1e-3);
	CHECK_NEAR(s->current, 0.0, 1e-4);
	CHECK_NEAR(s->soc, 99.2, 1e-4);
	CHECK_NEAR(s->soh, 99, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 24, 1e-4);
	CHECK_NEAR(s->temp_c[1], 8, 1e-4);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK(bms_plausible(s, NULL));
}

static void test_cells(void)
{
	struct bms_poll poll;
	struct drive_res r;
	build(126);
	hv_two_polls(&poll, full);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_EQ_INT(s->ncells, 126);
	for (int i = 0; i < 126; i++)
		CHECK_EQ_INT(s->cell_mv[i], 3290 + i % 61);
	CHECK(!(s->present & BMS_HAS_CELL_EXT)); /* every cell: 0x446's dropped */
	struct bms_poll first;
	memset(&first, 0, sizeof(first));
	CHECK_EQ_INT(hv_poll(&first, full, 0, false, &r), BMS_OK); /* a learning poll: 0x446's */
	CHECK_EQ_INT(first.snap.ext_min_mv, 3290);
	CHECK_EQ_INT(first.snap.ext_min_cell, 7);
	CHECK_EQ_INT(first.snap.ext_max_mv, 3350);
	CHECK_EQ_INT(first.snap.ext_max_cell, 100);
	CHECK_EQ_INT(s->ntemps, 12);
	CHECK_NEAR(s->temp_c[0], 20, 1e-4);
	CHECK(isnan(s->temp_c[11])); /* 0xFF: a module not fitted */
	/* 125 cells: the last position 0xFFF */
	build(125);
	hv_two_polls(&poll, full);
	CHECK_EQ_INT(poll.snap.ncells, 125);
	/* a cell of 256 mV: refused */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, ATTO_01 " 43D#0000010001000100", 0, false, &r), BMS_E_INVALID);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
}

static void test_broken(void)
{
	static char text[4096];
	int refused = 0;
	for (int k = 0; k < hv_nframes(ATTO_01); k++) {
		struct bms_poll poll;
		struct drive_res r;
		hv_two_polls(&poll, ATTO_01);
		hv_break(text, sizeof(text), ATTO_01, k, 0);
		int rc = hv_poll(&poll, text, 0, false, &r);
		refused += r.badsum;
		CHECK_EQ_INT(r.badsum, k < 4 ? 1 : 0);
		/* 0x438, 0x444, 0x447 learned: their loss fails the poll */
		CHECK_EQ_INT(rc, (k == 0 || k == 1 || k == 3) ? BMS_E_INVALID : BMS_OK);
	}
	CHECK_EQ_INT(refused, 4);
}

static void test_table(void)
{
	hv_table("byd-atto3", 85, 500000);
	CHECK(hv_passes(0x444, false) && hv_passes(0x43D, false));
}

int main(void)
{
	test_table();
	test_vector();
	test_cells();
	test_broken();
	return check_report();
}
