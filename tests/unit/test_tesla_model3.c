/* SPDX-License-Identifier: MIT */
/* tests/unit/test_tesla_model3.c - a Tesla Model 3 / Y pack read listen
 * only (bms/tesla_model3.c, bms/PROTOCOLS.md §86), on M3-01 of
 * tests/fixtures/vectors.tsv (0x132, 0x292, 0x332 encoded from the Tesla
 * DBC): 410.50 V, +8.2 A, SOC 81.0 % (SOCUI), bricks 3790..3800 mV (its
 * numbers 77 and 5), 29.5..31.0 degC; and a whole broadcast built from
 * the DBC's layout: the 108 bricks of 0x401 (mux 0..35) and 0x20A's
 * contactors: every brick in place (mux 11's second and third too: the
 * DBC's names are swapped, not their places), the contactors closed,
 * welded (a fault) or not available; a poll that misses a brick frame the
 * pack sends fails and learns again (a pack whose frames changed costs
 * two polls), never a list with a hole; a learning poll that lost the
 * cycle's last frame learns it when a poll hears it, never a short list;
 * one that heard two whole cycles (every brick twice) has the list; frames a byte short dropped whole
 * and counted; bricks of 0 / 0xFFFF none, a brick of 6 V refused; the
 * other muxes of 0x332 and 0x401 passed over. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_tesla_model3_driver;

#include "hv_check.h"

#define M3_01 "132#5AA0520000000000 292#29AB3CB3CB0C9301 332#B11D6707044C 332#08038E8B8E8B"

/* The broadcast of M3-01 with the 108 bricks (brick i: 3700 + i % 50 mV,
 * in 0.1 mV) and 0x20A (contactors pulled in, the interlock fine). */
static char full[8192];

static void build_full(const char *c20a)
{
	size_t n = (size_t)snprintf(full, sizeof(full), "%s %s", M3_01, c20a);
	for (int m = 0; m < 36; m++) {
		n += (size_t)snprintf(full + n, sizeof(full) - n, " 401#%02X00", m);
		for (int k = 0; k < 3; k++) {
			unsigned raw = (3700u + (unsigned)(3 * m + k) % 50u) * 10u;
			n += (size_t)snprintf(full + n, sizeof(full) - n, "%02X%02X", raw & 0xFFu, raw >> 8);
		}
	}
}

static void test_vector(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, M3_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 410.50, 1e-3);
	CHECK_NEAR(s->current, 8.2, 1e-4);
	CHECK_NEAR(s->soc, 81.0, 1e-4);
	CHECK_EQ_INT(s->ncells, 0); /* no 0x401 heard: no list */
	CHECK(s->present & BMS_HAS_CELL_EXT);
	CHECK_EQ_INT(s->ext_max_mv, 3800);
	CHECK_EQ_INT(s->ext_min_mv, 3790);
	CHECK_EQ_INT(s->ext_max_cell, 5);
	CHECK_EQ_INT(s->ext_min_cell, 77);
	CHECK_NEAR(s->ext_tmax_c, 31.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 29.5, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK(bms_plausible(s, NULL));
}

static void test_bricks(void)
{
	struct bms_poll poll;
	struct drive_res r;
	build_full("20A#240000000001");
	hv_two_polls(&poll, full);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_EQ_INT(s->ncells, 108);
	for (int i = 0; i < 108; i++)
		CHECK_EQ_INT(s->cell_mv[i], 3700 + i % 50);
	CHECK_EQ_INT(s->cell_mv[34], 3734); /* mux 11, position 1: cell 34 in the DBC's count from 1 is 3m+k+1 */
	CHECK(s->present & BMS_HAS_MOSFETS);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	/* a brick frame missing: no poll, learned again; the next whole */
	const char *m7 = strstr(full, "401#0700");
	static char text[8192];
	snprintf(text, sizeof(text), "%.*s%s", (int)(m7 - full), full, m7 + strlen("401#0700") + 13);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_OK); /* learning: no list (a hole) */
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK_EQ_INT(hv_poll(&poll, full, 0, false, &r), BMS_OK); /* it learned up to mux 35 */
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 108);
	/* a learning poll that lost the cycle's last frame (mux 35) learns 35
	 * frames and shows no list; a poll that hears mux 35 (here before the
	 * others) learns it too and is whole with 108, never a short list */
	const char *m35 = strstr(full, " 401#2300");
	snprintf(text, sizeof(text), "%.*s", (int)(m35 - full), full);
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	static char moved[8192];
	snprintf(moved, sizeof(moved), "%s %.*s", m35 + 1, (int)(m35 - full), full);
	CHECK_EQ_INT(hv_poll(&poll, moved, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 108);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID); /* now mux 35 is the pack's */
	/* a learning poll that heard two whole cycles: every brick twice, its
	 * list whole already */
	static char two[16384];
	snprintf(two, sizeof(two), "%s %s", full, full);
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, two, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(poll.snap.ncells, 108);
	/* the contactors welded; not available */
	build_full("20A#3F0000000001");
	CHECK_EQ_INT(hv_poll(&poll, full, 0, false, &r), BMS_OK);
	CHECK(poll.snap.alarms & BMS_AL_MOS_FAULT);
	CHECK(!poll.snap.chg_mos);
	build_full("20A#000000000001");
	CHECK_EQ_INT(hv_poll(&poll, full, 0, false, &r), BMS_E_INVALID); /* 0x20A learned, none available */
	/* bricks none (0, 0xFFFF) at the end: 106 */
	hv_two_polls(&poll, M3_01 " 401#00000C900C900C90 401#0100FFFF00000C90");
	CHECK_EQ_INT(poll.snap.ncells, 0); /* a hole (bricks 4, 5): no list */
	hv_two_polls(&poll, M3_01 " 401#00000C900C900C90 401#01000C900000FFFF");
	CHECK_EQ_INT(poll.snap.ncells, 0); /* 14.75 V of bricks in a 410.5 V pack: a part, no list */
#define M3_SMALL "132#C305520000000000 292#29AB3CB3CB0C9301 332#B11D6707044C 332#08038E8B8E8B" /* 14.75 V */
	hv_two_polls(&poll, M3_SMALL " 401#00000C900C900C90 401#01000C900000FFFF");
	CHECK_EQ_INT(poll.snap.ncells, 4);
	/* a brick of 6.0 V: refused */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, M3_01 " 401#00000C900C906CEA", 0, false, &r), BMS_E_INVALID);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* other muxes passed over */
	memset(&poll, 0, sizeof(poll));
	CHECK_EQ_INT(hv_poll(&poll, M3_01 " 401#24000C900C900C90 332#0A0000000000", 0, false, &r), BMS_OK);
	CHECK_EQ_INT(r.unexpected, 2);
	CHECK_EQ_INT(poll.snap.ncells, 0);
}

/* Each frame a byte short in turn, each flipped in its last byte. */
static void test_broken(void)
{
	static char text[8192];
	int n = hv_nframes(M3_01), refused = 0;
	for (int mode = 0; mode < 2; mode++)
		for (int k = 0; k < n; k++) {
			struct bms_poll poll;
			struct drive_res r;
			hv_two_polls(&poll, M3_01);
			hv_break(text, sizeof(text), M3_01, k, mode);
			int rc = hv_poll(&poll, text, 0, false, &r);
			refused += r.badsum;
			CHECK_EQ_INT(r.badsum, mode);
			CHECK_EQ_INT(rc, mode ? BMS_E_INVALID : BMS_OK); /* every frame learned */
		}
	CHECK_EQ_INT(refused, 4);
}

static void test_table(void)
{
	hv_table("tesla-model3", 81, 500000);
	CHECK(hv_passes(0x132, false) && hv_passes(0x401, false) && hv_passes(0x20A, false));
	uint8_t d[8] = { 0x29, 0xAB, 0x3C, 0xB3, 0xCB, 0x0C, 0x93, 0x01 };
	CHECK_EQ_INT(hv_bits_le(d, 10, 10), 810);
	CHECK_EQ_INT(hv_bits_le(d, 30, 10), 814);
	CHECK_EQ_INT(hv_bits_le(d, 0, 32), 0xB33CAB29u);
}

int main(void)
{
	test_table();
	test_vector();
	test_bricks();
	test_broken();
	return check_report();
}
