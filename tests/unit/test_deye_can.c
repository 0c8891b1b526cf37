/* SPDX-License-Identifier: MIT */
/* tests/unit/test_deye_can.c - a Deye battery's PCS CAN read listen only
 * (bms/deye_can.c).  No capture with decoded values is public: the frames
 * here are made after the open reader's layout (bms/PROTOCOLS.md §43), the
 * one the simulator sends; in every chunking; the inverter's and a bank's
 * per-battery frames passed over; the alarm bytes; broken frames refused,
 * the poll with them. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const struct bms_driver *const drv = &bms_deye_can_driver;

#include "can_recs.h"
#include "drive.h"

/* 57.6 V / 120 A / 120 A / 48.0 V; SOC 87, SOH 99; 53.12 V, raw -255 (+25.5 A
 * charging in the reader's sign), 21.0 degC; no alarm; DY001, type 3,
 * 100.0 Ah; 3325 / 3318 mV, 23.0 / 20.5 degC */
#define SET "351#4002B004B004E001 355#5700630000000000 356#C01401FFD2000000 359#0000000000000000 " \
	"35E#445930303103E803 361#FD0CF60CE600CD00"

static const size_t chunks_odd[] = { 1, 3, 2, 7, 5, 11 };

static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const char *text)
{
	uint8_t buf[512];
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
	CHECK_STR(drv->name, "deye-can");
	CHECK_EQ_INT(drv->protocol_id, 35);
	CHECK(bms_find("deye-can") == drv);
	CHECK(drv->listen_only && drv->next_request == NULL);
	CHECK_EQ_INT(drv->can->bitrate, 500000);
	static const unsigned ids[] = { 0x351, 0x355, 0x356, 0x359, 0x35E, 0x361 };
	for (size_t i = 0; i < 6; i++)
		CHECK((ids[i] & drv->can->mask) == drv->can->id);
	CHECK((0x305 & drv->can->mask) != drv->can->id);
}

static void test_set(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (int inv = 0; inv < 2; inv++) {
		fresh(&poll, &rx, inv);
		struct drive_res r = feed(&poll, &rx, "305#0102030405060708 150#0102030405060708 " SET);
		CHECK_EQ_INT(r.more, 6);
		CHECK_EQ_INT(r.unexpected, 2);
		CHECK_EQ_INT(r.err, 0);
		CHECK(drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_NEAR(s->bms_cvl_v, 57.6, 1e-4);
		CHECK_NEAR(s->bms_ccl_a, 120.0, 1e-4);
		CHECK_NEAR(s->bms_dcl_a, 120.0, 1e-4);
		CHECK_NEAR(s->bms_dvl_v, 48.0, 1e-4);
		CHECK_NEAR(s->soc, 87.0, 1e-4);
		CHECK_NEAR(s->soh, 99.0, 1e-4);
		CHECK_NEAR(s->voltage, 53.12, 1e-4);
		CHECK_NEAR(s->current, inv ? -25.5 : 25.5, 1e-4);
		CHECK_EQ_INT(s->ntemps, 3);
		CHECK_NEAR(s->temp_c[0], 21.0, 1e-4);
		CHECK_NEAR(s->temp_c[1], 23.0, 1e-4);
		CHECK_NEAR(s->temp_c[2], 20.5, 1e-4);
		CHECK_NEAR(s->full_ah, 100.0, 1e-4);
		CHECK_EQ_INT(s->alarms, 0);
		CHECK_EQ_INT(s->ncells, 0);
		CHECK_STR(poll.kept.ident.vendor, "DY001");
	}
	/* learned: the next poll ends at the set's last frame */
	drive_begin(&poll, &rx, 0, 0, false);
	struct drive_res r = feed(&poll, &rx, SET " " SET);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.more, 5);
}

static void test_alarms(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	fresh(&poll, &rx, false);
	/* warning: cell high V (byte 0 b0); alarm: discharge over-current (byte 4 b5), fuse (byte 6 b4) */
	feed(&poll, &rx, "355#5700630000000000 356#C01401FFD2000000 359#0100000020001000");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CELL_OV | BMS_AL_DSG_OC | BMS_AL_HW_FAULT | BMS_AL_PROTECTION);
	CHECK_EQ_INT(poll.snap.nraw, 4);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x0001);
	CHECK_EQ_INT(poll.snap.raw_alarms[2], 0x0020);
}

static void test_broken(void)
{
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{ "356#C01401FF", BMS_E_SHORT },
		{ "351#4002B004B004", BMS_E_SHORT },
		{ "356#000001FFD2000000", BMS_E_RANGE },  /* 0 V */
		{ "355#6500630000000000", BMS_E_RANGE },  /* SOC 101 */
		{ "351#4002FF7FB004E001", BMS_E_RANGE },  /* CCL 3276.7 A */
		{ "356x#C01401FFD2000000", BMS_E_UNEXPECTED },
		{ "356r#8", BMS_E_UNEXPECTED },
		{ "305#0102030405060708", BMS_E_UNEXPECTED },
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
	fresh(&poll, &rx, false);
	feed(&poll, &rx, SET " 356#C01401FF");
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_set();
	test_alarms();
	test_broken();
	return check_report();
}
