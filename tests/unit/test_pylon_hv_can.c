/* SPDX-License-Identifier: MIT */
/* tests/unit/test_pylon_hv_can.c - a battery's Pylontech HV CAN read listen
 * only (bms/pylon_hv_can.c): PYLONHV-01 of tests/fixtures/vectors.tsv (a
 * real battery's 0x4220) within a group made after the layout (0x4210,
 * 0x4230, 0x4240: Battery-Emulator's placeholder frames; the others made
 * here), as the CAN transport hands them over, in every chunking; the
 * inverter's frames and another address passed over; the forbidden marks
 * of 0x4280; the alarm and protection bits; broken frames refused, the
 * poll with them.  Protocol facts: bms/PROTOCOLS.md §42. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const struct bms_driver *const drv = &bms_pylon_hv_can_driver;

#include "can_recs.h"
#include "drive.h"

/* tests/fixtures/vectors.tsv, family can */
#define PYLONHV_01 "00004220#A410200D2A763674"
#define F4200 "00004200#0000000000000000"
#define F4210 "00004210#A50930759D042E64"
#define F4230 "00004230#DF0CDA0C03000600"
#define F4240 "00004240#7E04620411000300"
#define F4250 "00004250#0300000000000000"
#define F4280 "00004280#0000000000000000"
#define F7320 "00007320#4B00050F00018000"
#define F7330 "00007330#50594C4F4E544543"
#define F7340 "00007340#4820202020202020"
#define GROUP F4200 " " F4210 " " PYLONHV_01 " " F4230 " " F4240 " " F4250 " " F4280 " " F7320 " " F7330 " " F7340

static const size_t chunks_odd[] = { 1, 3, 2, 7, 5, 11 };

static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const char *text)
{
	uint8_t buf[1024];
	size_t n = recs(buf, sizeof(buf), text);
	return FEED_BYTES(poll, rx, buf, n, chunks_odd);
}

static void fresh(struct bms_poll *poll, struct bms_rx *rx, bool inv)
{
	drive_begin(poll, rx, 0, 0, inv);
	poll->persist = 0;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "pylon-hv-can");
	CHECK_EQ_INT(drv->protocol_id, 34);
	CHECK(bms_find("pylon-hv-can") == drv);
	CHECK(drv->listen_only && drv->next_request == NULL);
	CHECK_EQ_INT(drv->can->bitrate, 500000);
	static const uint32_t ids[] = { 0x4210, 0x4211, 0x4220, 0x4280, 0x7320, 0x7341 };
	for (size_t i = 0; i < 6; i++)
		CHECK((ids[i] & drv->can->ext_mask) == (drv->can->ext_id & drv->can->ext_mask));
	CHECK((0x8210u & drv->can->ext_mask) != (drv->can->ext_id & drv->can->ext_mask));
}

static void check_group(const struct bms_poll *poll, bool inv)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->voltage, 246.9, 1e-3);
	CHECK_NEAR(s->current, 0.0, 1e-4);
	(void)inv;
	CHECK_NEAR(s->soc, 46.0, 1e-4);
	CHECK_NEAR(s->soh, 100.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK_NEAR(s->temp_c[0], 18.1, 1e-4);
	CHECK_NEAR(s->temp_c[1], 15.0, 1e-4);
	CHECK_NEAR(s->temp_c[2], 12.2, 1e-4);
	/* PYLONHV-01: 426.0 V, 336.0 V, +25.0 A, 25.0 A (the real battery) */
	CHECK_NEAR(s->bms_cvl_v, 426.0, 1e-3);
	CHECK_NEAR(s->bms_dvl_v, 336.0, 1e-3);
	CHECK_NEAR(s->bms_ccl_a, 25.0, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 25.0, 1e-4);
	CHECK_NEAR(s->full_ah, 128.0, 1e-4); /* 0x7320 bytes 6-7 */
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_STR(poll->kept.ident.vendor, "PYLONTECH");
}

static void test_group(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t buf[512];
	size_t n = recs(buf, sizeof(buf), GROUP);
	const size_t *chs[] = { chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 3; k++) {
		fresh(&poll, &rx, false);
		struct drive_res r = drive_feed_bytes(&poll, &rx, buf, n, chs[k], nchs[k]);
		CHECK_EQ_INT(r.more, 8);
		CHECK_EQ_INT(r.unexpected, 2); /* 0x4200, 0x4230 */
		CHECK_EQ_INT(r.err + r.ok, 0);
		CHECK(drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_group(&poll, false);
	}
	for (size_t k = 1; k < n; k++) {
		const size_t two[] = { k, n - k };
		fresh(&poll, &rx, false);
		FEED_BYTES(&poll, &rx, buf, n, two);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
	check_group(&poll, false);
	/* learned: the next poll ends at the group's last frame */
	drive_begin(&poll, &rx, 0, 0, false);
	struct drive_res r = feed(&poll, &rx, GROUP " " GROUP);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.more, 7);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_group(&poll, false);
	/* another battery (address 1): passed over; a pack at address 1 reads it */
	fresh(&poll, &rx, false);
	r = feed(&poll, &rx, "00004211#A50930759D042E64 " F4210 " 00004221#A410200D30753075");
	CHECK_EQ_INT(r.unexpected, 2);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.persist = 0;
	r = feed(&poll, &rx, F4210 " 00004211#A50930759D042E64 00004221#A410200D30753075");
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0.0, 1e-6);
}

/* 0x4280's marks: 0 A in the forbidden direction. */
static void test_forbidden(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	fresh(&poll, &rx, false);
	feed(&poll, &rx, F4210 " 00004280#AA00000000000000 " PYLONHV_01);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0.0, 1e-6);
	CHECK_NEAR(poll.snap.bms_dcl_a, 25.0, 1e-4);
	fresh(&poll, &rx, false);
	feed(&poll, &rx, F4210 " 00004280#00AA000000000000");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.bms_dcl_a, 0.0, 1e-6);
	CHECK_NEAR(poll.snap.bms_ccl_a, 3000.0, 1e-3); /* no 0x4220: no limit of the battery's */
}

/* 0x4250: warning and protection bits, error bits, the state. */
static void test_alarms(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	fresh(&poll, &rx, false);
	/* charging; error bit 2 (internal communication); warning bit 1 (cell
	 * high V); protection bit 9 (discharge over-current) */
	feed(&poll, &rx, F4210 " 00004250#0100000402000002");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_COMM | BMS_AL_CELL_OV | BMS_AL_DSG_OC | BMS_AL_PROTECTION);
	CHECK_EQ_INT(poll.snap.state, 1);
	CHECK_EQ_INT(poll.snap.nraw, 3);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x0002);
	CHECK_EQ_INT(poll.snap.raw_alarms[1], 0x0200);
}

static void test_broken(void)
{
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{ "00004210#A50930759D04", BMS_E_SHORT },      /* truncated */
		{ "00004220#A410200D2A7636", BMS_E_SHORT },    /* PYLONHV-01 truncated */
		{ "00004210#000030759D042E64", BMS_E_RANGE },  /* 0 V */
		{ "00004210#A50930759D04652E", BMS_E_RANGE },  /* SOC 101 */
		{ "00004220#A410200DFFFF3674", BMS_E_RANGE },  /* CCL 3553.5 A */
		{ "00007320#0000050F00018000", BMS_E_RANGE },  /* no cells */
		{ "210#A50930759D042E64", BMS_E_UNEXPECTED },      /* a standard frame */
		{ "00004210r#8", BMS_E_UNEXPECTED },
		{ "00004212#A50930759D042E64", BMS_E_UNEXPECTED }, /* address 2 */
		{ F4230, BMS_E_UNEXPECTED },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(&poll, &rx, false);
		struct drive_res r = feed(&poll, &rx, bad[i].text);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.nrc ? r.rc[0] : 99, bad[i].rc);
		CHECK_EQ_INT(poll.seen, bad[i].rc == BMS_E_UNEXPECTED ? 0u : BMS_CAN_REFUSED);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* a refused frame after a good group: the poll is not used */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, GROUP " 00004220#A410200D2A7636");
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_group();
	test_forbidden();
	test_alarms();
	test_broken();
	return check_report();
}
