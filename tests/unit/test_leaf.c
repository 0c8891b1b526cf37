/* SPDX-License-Identifier: MIT */
/* tests/unit/test_leaf.c - a Nissan Leaf pack read listen only from its
 * EV-CAN (bms/leaf.c, bms/PROTOCOLS.md §85), on LEAF-01 of
 * tests/fixtures/vectors.tsv (0x1DB and 0x55B encoded from the Leaf DBC,
 * the LBC's group 2 answer to another tester's request with its flow
 * control frames): 356.0 V, +12.0 A, SOC 41.2 %, 96 cells 3702..3718 mV,
 * the main relay closed; a first poll that learns (at its timeout), a
 * second whole at the answer's last frame; each frame broken in turn (a
 * CRC of 0x1DB / 0x55B, a first frame cut: dropped whole and counted, the
 * poll whole from the other frames or not usable without its 0x55B); the
 * answer broken (a consecutive frame missing, out of turn, a cell out of
 * range): the poll ends there, no cells, never a part of the list; no tester: the poll used
 * without cells at its timeout, whole again at the next answer; an impossible
 * SOC refused; "not available" values passed over; cells = 90;
 * invert_current. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_leaf_driver;

#include "hv_check.h"

#define LEAF_01 "1DB#0300B22800000074 55B#670055000000000E 79B#022102FFFFFFFFFF 7BB#10C661020E760E7B 79B#300100FFFFFFFFFF " \
	"7BB#210E800E850E790E 79B#300100FFFFFFFFFF 7BB#227E0E830E770E7C 79B#300100FFFFFFFFFF 7BB#230E810E860E7A0E " \
	"79B#300100FFFFFFFFFF 7BB#247F0E840E780E7D 79B#300100FFFFFFFFFF 7BB#250E820E760E7B0E 79B#300100FFFFFFFFFF " \
	"7BB#26800E850E790E7E 79B#300100FFFFFFFFFF 7BB#270E830E770E7C0E 79B#300100FFFFFFFFFF 7BB#28810E860E7A0E7F " \
	"79B#300100FFFFFFFFFF 7BB#290E840E780E7D0E 79B#300100FFFFFFFFFF 7BB#2A820E760E7B0E80 79B#300100FFFFFFFFFF " \
	"7BB#2B0E850E790E7E0E 79B#300100FFFFFFFFFF 7BB#2C830E770E7C0E81 79B#300100FFFFFFFFFF 7BB#2D0E860E7A0E7F0E " \
	"79B#300100FFFFFFFFFF 7BB#2E840E780E7D0E82 79B#300100FFFFFFFFFF 7BB#2F0E760E7B0E800E 79B#300100FFFFFFFFFF " \
	"7BB#20850E790E7E0E83 79B#300100FFFFFFFFFF 7BB#210E770E7C0E810E 79B#300100FFFFFFFFFF 7BB#22860E7A0E7F0E84 " \
	"79B#300100FFFFFFFFFF 7BB#230E780E7D0E820E 79B#300100FFFFFFFFFF 7BB#24760E7B0E800E85 79B#300100FFFFFFFFFF " \
	"7BB#250E790E7E0E830E 79B#300100FFFFFFFFFF 7BB#26770E7C0E810E86 79B#300100FFFFFFFFFF 7BB#270E7A0E7F0E840E " \
	"79B#300100FFFFFFFFFF 7BB#28780E7D0E820E76 79B#300100FFFFFFFFFF 7BB#290E7B0E800E850E 79B#300100FFFFFFFFFF " \
	"7BB#2A790E7E0E830E77 79B#300100FFFFFFFFFF 7BB#2B0E7C0E810E86FF 79B#300100FFFFFFFFFF 7BB#2CFFFFFFFFFFFFFF " \
	"1DB#0300B22800000074"

/* The same cells without the tester's flow control, cut at the 0x25 frame
 * (a consecutive frame missing): no list. */
static uint8_t crc8(const uint8_t *p, int n)
{
	uint8_t c = 0;
	for (int i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (uint8_t)(c & 0x80 ? (c << 1) ^ 0x85 : c << 1);
	}
	return c;
}

/* "ID#HEX" of d[0..7) with its CRC. */
static void with_crc(char *out, size_t cap, unsigned id, const uint8_t *d)
{
	uint8_t f[8];
	memcpy(f, d, 7);
	f[7] = crc8(f, 7);
	snprintf(out, cap, "%03X#%02X%02X%02X%02X%02X%02X%02X%02X", id, f[0], f[1], f[2], f[3], f[4], f[5], f[6],
		 f[7]);
}

static void test_vector(void)
{
	struct bms_poll poll;
	hv_two_polls(&poll, LEAF_01);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 356.0, 1e-4);
	CHECK_NEAR(s->current, 12.0, 1e-4);
	CHECK_NEAR(s->soc, 41.2, 1e-4);
	CHECK_EQ_INT(s->ncells, 96);
	static const int want[8] = { 3702, 3707, 3712, 3717, 3705, 3710, 3715, 3703 };
	for (int i = 0; i < 8; i++)
		CHECK_EQ_INT(s->cell_mv[i], want[i]);
	CHECK_EQ_INT(s->cell_mv[95], 3718);
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	CHECK_EQ_INT(cs.max_mv, 3718);
	CHECK_EQ_INT(cs.min_mv, 3702);
	CHECK(s->present & BMS_HAS_MOSFETS);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	struct bms_implausible why;
	CHECK(bms_plausible(s, &why));
	/* the same, current turned */
	struct drive_res r;
	CHECK_EQ_INT(hv_poll(&poll, LEAF_01, 0, true, &r), BMS_OK);
	CHECK_NEAR(poll.snap.current, -12.0, 1e-4);
	/* cells = 90: the first 90 */
	CHECK_EQ_INT(hv_poll(&poll, LEAF_01, 90, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 90);
	CHECK_EQ_INT(poll.snap.cell_mv[90], 0);
}

/* Each frame broken in turn: a CRC flipped, then a byte cut. */
static void test_broken(void)
{
	static char text[8192];
	int n = hv_nframes(LEAF_01), refused = 0;
	for (int mode = 0; mode < 2; mode++)
		for (int k = 0; k < n; k++) {
			struct bms_poll poll;
			struct drive_res r;
			hv_two_polls(&poll, LEAF_01);
			hv_break(text, sizeof(text), LEAF_01, k, mode);
			int rc = hv_poll(&poll, text, 0, false, &r);
			refused += r.badsum;
			if (k == 0 || (k == 3 && mode)) {
				CHECK_EQ_INT(r.badsum, 1); /* 0x1DB's CRC or length; the first frame cut */
			}
			if (k == n - 1) {
				CHECK_EQ_INT(r.badsum, 0); /* the poll was whole at the answer's end: never read */
			}
			if (k == 1) {
				CHECK_EQ_INT(r.badsum, 1); /* 0x55B: no SOC, no poll */
				CHECK_EQ_INT(rc, BMS_E_INVALID);
				continue;
			}
			CHECK_EQ_INT(rc, BMS_OK);
			CHECK_NEAR(poll.snap.voltage, 356.0, 1e-4);
			/* a cell frame broken: the list whole or absent, never a part */
			CHECK(poll.snap.ncells == 96 || poll.snap.ncells == 0);
			if (poll.snap.ncells)
				CHECK(bms_plausible(&poll.snap, NULL));
		}
	CHECK_EQ_INT(refused, 5); /* 0x1DB and 0x55B, each mode; the first frame cut */
}

/* The answer broken: a consecutive frame missing; one out of turn; a cell
 * out of range (its CRC-free bytes plausible frames): no list, the poll
 * used without cells.  Then the tester stopped: a poll without its answer
 * is used at its timeout, and the next no longer waits for one. */
static void test_answer(void)
{
	static char text[8192];
	struct bms_poll poll;
	struct drive_res r;
	hv_two_polls(&poll, LEAF_01);
	/* drop the 0x25 frame (and its flow control) */
	const char *cut = strstr(LEAF_01, "7BB#250E820E760E7B0E");
	CHECK(cut != NULL);
	snprintf(text, sizeof(text), "%.*s%s", (int)(cut - LEAF_01), LEAF_01, cut + strlen("7BB#250E820E760E7B0E "));
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(r.ok, 1); /* its answer broken: the poll ends there, without cells */
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK(!(poll.snap.present & BMS_HAS_CELLS));
	CHECK_NEAR(poll.snap.voltage, 356.0, 1e-4);
	/* no tester: the poll waits for an answer, and is used at its timeout */
	CHECK_EQ_INT(hv_poll(&poll, "1DB#0300B22800000074 55B#670055000000000E", 0, false, &r), BMS_OK);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	/* a tester again: the poll whole at its answer's end */
	CHECK_EQ_INT(hv_poll(&poll, LEAF_01, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 96);
	/* a cell of 0x0100 mV: not a list of cells */
	const char *at = strstr(LEAF_01, "7BB#210E800E850E790E");
	snprintf(text, sizeof(text), "%.*s7BB#2101000E850E790E%s", (int)(at - LEAF_01), LEAF_01,
		 at + strlen("7BB#210E800E850E790E"));
	hv_two_polls(&poll, LEAF_01);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	/* a frame out of turn (0x22 where 0x21 belongs) */
	snprintf(text, sizeof(text), "%.*s7BB#220E800E850E790E%s", (int)(at - LEAF_01), LEAF_01,
		 at + strlen("7BB#210E800E850E790E"));
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	/* another group's answer (group 1's first frame) passed over */
	CHECK_EQ_INT(hv_poll(&poll, "7BB#102961010000FFFF " LEAF_01, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 96);
}

/* Values: "not available" passed over, an impossible SOC refused, the
 * LBC's requests as alarms. */
static void test_values(void)
{
	char a[64], b[64], text[256];
	struct bms_poll poll;
	struct drive_res r;
	memset(&poll, 0, sizeof(poll));
	/* -10.5 A (0x7EB), 0x3FF volts first (not available), then 300.0 V;
	 * the relay cut requested, the failsafe status 4 (caution lamp) */
	static const uint8_t na[7] = { 0xFD, 0x60, 0xFF, 0xC0, 0, 0, 0 };
	static const uint8_t ok[7] = { 0xFD, 0x7C, 0x96, 0x00, 0, 0, 0 };
	with_crc(a, sizeof(a), 0x1DB, na);
	with_crc(b, sizeof(b), 0x1DB, ok);
	snprintf(text, sizeof(text), "%s 55B#670055000000000E %s", a, b);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 300.0, 1e-4);
	CHECK_NEAR(poll.snap.current, -10.5, 1e-4);
	CHECK(poll.snap.alarms & BMS_AL_PROTECTION);
	CHECK(poll.snap.alarms & BMS_AL_OTHER);
	CHECK(!poll.snap.chg_mos);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x1C);
	/* SOC 0x3FF passed over; 1001 refused */
	static const uint8_t soc_na[7] = { 0xFF, 0xC0, 0, 0, 0, 0, 0 };
	static const uint8_t soc_bad[7] = { 0xFA, 0x40, 0, 0, 0, 0, 0 };
	with_crc(a, sizeof(a), 0x55B, soc_na);
	snprintf(text, sizeof(text), "%s 1DB#0300B22800000074", a);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID);
	with_crc(a, sizeof(a), 0x55B, soc_bad);
	snprintf(text, sizeof(text), "%s 1DB#0300B22800000074", a);
	CHECK_EQ_INT(hv_poll(&poll, text, 0, false, &r), BMS_E_INVALID);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
}

static void test_table(void)
{
	hv_table("leaf", 80, 500000);
	CHECK(hv_passes(0x1DB, false) && hv_passes(0x55B, false) && hv_passes(0x7BB, false));
	CHECK(!hv_passes(0x1DB, true));
	uint8_t f[8] = { 0x03, 0x00, 0xB2, 0x28, 0, 0, 0 };
	CHECK_EQ_INT(hv_crc8(0x85, f, 7), 0x74);
	CHECK_EQ_INT(crc8(f, 7), 0x74);
}

int main(void)
{
	hv_answers = true;
	test_table();
	test_vector();
	test_broken();
	test_answer();
	test_values();
	return check_report();
}
