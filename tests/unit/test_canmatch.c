/* SPDX-License-Identifier: MIT */
/* tests/unit/test_canmatch.c - `bmsgw --detect` on a CAN bus: the CAN
 * families' verdict on recorded frames (gateway/detect/canmatch.h): the
 * rates from the driver table, which drivers are tried (never one that
 * must be asked), a family's polls over the frames as the daemon's CAN
 * poll reads them (whole by handle() or by its timeout()), the address
 * found (rvc's source address), broken and foreign frames, the ranking. */
#include "../../bms/bms.h"
#include "../../gateway/detect/canmatch.h"
#include "check.h"

#include <stdint.h>
#include <string.h>

#include "can_recs.h"

/* tests/fixtures/vectors.tsv: RVC-01 (a Renogy REGO bank at 0x8D), PYLONCAN-01 */
#define RVC_01 "19FFFD8D#01780A0120013577 19FFFC8D#01783C25AEF40001 19FFFB8D#0178C81404AEFFFF " \
	"19FEC98D#0178072001709403 19FEC78D#0178000000FFFFFF 19FEA58D#017815B004F40100"
#define PYLONCAN_01 "351#1402C012C012C201 355#58005E00 356#7A13F2FE6B01 359#0000000006504E 35C#C000 " \
	"35E#50594C4F4E202020"

static uint8_t buf[8192];
static float at[512];

/* text `times` times over, a set every `every` s; the records' count */
static size_t bus(const char *text, int times, float every, size_t *n)
{
	size_t len = 0, k = 0;
	for (int i = 0; i < times; i++) {
		size_t before = len, off = 0;
		len += recs(buf + len, sizeof(buf) - len, text);
		while (before + off < len) {
			size_t r = 0;
			CHECK(bms_can_scan(buf + before + off, len - before - off, &r) == BMS_SCAN_FRAME);
			at[k] = (float)i * every + 0.01f * (float)k;
			k++;
			off += r;
		}
	}
	*n = len;
	return k;
}

static void test_rates(void)
{
	uint32_t r[GW_CAN_RATES];
	int n = gw_can_rates(r, GW_CAN_RATES);
	unsigned count[GW_CAN_RATES] = { 0 };
	CHECK(n >= 2);
	for (size_t i = 0; bms_drivers[i]; i++) {
		const struct bms_driver *d = bms_drivers[i];
		int k = 0;
		while (d->can && k < n && r[k] != d->can->bitrate)
			k++;
		CHECK(!d->can || k < n); /* every CAN driver's rate is listed */
		if (d->can && k < n)
			count[k]++;
	}
	for (int k = 1; k < n; k++)
		CHECK(count[k - 1] > count[k] || (count[k - 1] == count[k] && r[k - 1] > r[k]));
	CHECK(gw_can_tried(bms_find("jk-can"), 250000) && !gw_can_tried(bms_find("jk-can"), 500000));
	CHECK(gw_can_tried(bms_find("pylon-can"), 0) && gw_can_tried(bms_find("rvc"), 0));
	/* a family that must be asked is never tried; nor a serial one */
	CHECK(!gw_can_tried(bms_find("daly-can"), 250000) && !gw_can_tried(bms_find("daly-can"), 0));
	CHECK(!gw_can_tried(bms_find("daly"), 0) && !gw_can_tried(bms_find("jk"), 0));
}

static void test_rvc(void)
{
	size_t n, k = bus(RVC_01, 4, 1.0f, &n);
	struct gw_can_match m;
	/* the REGO at 0x8D found among rvc's addresses; not at the default 0x8F */
	CHECK(gw_can_match_best(bms_find("rvc"), buf, n, at, k, &m));
	CHECK_EQ_INT(m.address, 0x8D);
	CHECK(m.polls >= 1 && m.used >= 2 && m.used <= k);
	CHECK(strstr(m.what, "13.30 V") != NULL);
	gw_can_match_run(bms_find("rvc"), 0x8F, buf, n, at, k, &m);
	CHECK_EQ_INT(m.polls, 0);
	CHECK_STR(m.what, "no frame of it");
	/* another family hears nothing of its own in them */
	CHECK(!gw_can_match_best(bms_find("jk-can"), buf, n, at, k, &m));
	CHECK(!gw_can_match_best(bms_find("ubms-can"), buf, n, at, k, &m));
	/* without times: one poll, the records' end judged by timeout() */
	gw_can_match_run(bms_find("rvc"), 0x8D, buf, n, NULL, 0, &m);
	CHECK(m.polls >= 1);
	/* sets 4 s apart, beyond rvc's 3 s wait: each set a poll of its own
	 * (the first learns; the later ones end whole by handle()) */
	k = bus(RVC_01, 3, 4.0f, &n);
	gw_can_match_run(bms_find("rvc"), 0x8D, buf, n, at, k, &m);
	CHECK_EQ_INT(m.polls, 3);
	CHECK_EQ_INT(m.used, k);
}

static void test_pylon(void)
{
	size_t n, k = bus(PYLONCAN_01, 3, 1.0f, &n);
	struct gw_can_match p, t;
	CHECK(gw_can_match_best(bms_find("pylon-can"), buf, n, at, k, &p));
	CHECK(p.polls >= 1 && p.used == k); /* every frame is pylon-can's */
	CHECK(!gw_can_match_best(bms_find("rvc"), buf, n, at, k, &t));
	CHECK(!gw_can_match_best(bms_find("pylon-hv-can"), buf, n, at, k, &t));
	/* deye-can reads some of the same identifiers: whatever it makes of
	 * them, pylon-can's polls took at least as many frames */
	if (gw_can_match_best(bms_find("deye-can"), buf, n, at, k, &t))
		CHECK(gw_can_match_cmp(&p, &t) <= 0);
	/* a truncated 0x351: refused, never a match */
	k = bus("351#1402C0 355#58005E00 356#7A13F2FE6B01", 3, 1.0f, &n);
	CHECK(!gw_can_match_best(bms_find("pylon-can"), buf, n, at, k, &p));
	CHECK_EQ_INT(p.polls, 0);
	CHECK(p.bad >= 1);
	/* all zero: no battery (implausible), never a match */
	k = bus("351#0000000000000000 355#0000000000000000 356#0000000000000000", 3, 1.0f, &n);
	CHECK(!gw_can_match_best(bms_find("pylon-can"), buf, n, at, k, &p));
	/* nothing heard */
	CHECK(!gw_can_match_best(bms_find("pylon-can"), buf, 0, at, 0, &p));
}

static void test_rank(void)
{
	struct gw_can_match a = { .polls = 1, .used = 10 }, b = { .polls = 4, .used = 8 }, c = { .polls = 2, .used = 10 };
	CHECK(gw_can_match_cmp(&a, &b) < 0 && gw_can_match_cmp(&b, &a) > 0); /* more frames first */
	CHECK(gw_can_match_cmp(&c, &a) < 0);                                 /* as many: more polls */
	CHECK_EQ_INT(gw_can_match_cmp(&a, &a), 0);
}

int main(void)
{
	test_rates();
	test_rvc();
	test_pylon();
	test_rank();
	return check_report();
}
