/* SPDX-License-Identifier: MIT */
/* tests/unit/test_pwrxtreme.c - the PowerXtreme smart BMS over Bluetooth LE
 * (bms/pwrxtreme.c): the pwrxtreme row of tests/fixtures/vectors.tsv
 * (aiobmsble's Topband v1 frame of a 4S pack) through scan() + handle() as
 * the gateway's listening poll runs them, in every chunking, with noise
 * around it; broken copies made here (the sum, a digit that is none,
 * truncated, a wrong start byte); its table against topband's (the same
 * frames: only the GATT layout and the advertisement differ).  Protocol
 * facts: bms/PROTOCOLS.md §80, §34. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_pwrxtreme_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family topband */
#define PWRXTREME_01 \
	"5e43333334303030303030303030303030323033433033303030313030363430304234304230303030303130303130304433" \
	"4330443344304433413044303030303030303030303030303030303030303030303030303030303030303030303030303030" \
	"30303030303030303030333732"

static uint8_t frame[120];
static size_t nframe;

static void check_01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[4] = { 3344, 3388, 3389, 3386 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.507, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	(void)inv;
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 1);
	CHECK_NEAR(s->remain_ah, 212.0, 1e-3);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 26.45, 1e-3);
	CHECK_EQ_INT(s->alarms, 0);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "pwrxtreme");
	CHECK_EQ_INT(drv->protocol_id, 70);
	CHECK(bms_find("pwrxtreme") == drv);
	CHECK(bms_ble_only(drv) && drv->listen_only && drv->next_request == NULL);
	const struct bms_gatt *g = drv->ble->gatt;
	CHECK_STR(g[0].service, "0000fff0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(g[0].notify, "0000fff1-0000-1000-8000-00805f9b34fb");
	CHECK(g[0].write == NULL && g[1].service == NULL); /* never written */
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_COMPANY_SERVICE && h[0].value == 0xFFF0004Cu && h[1].why == NULL);
	CHECK(h[0].rank < 6); /* before Daly's FFF0 alone */
	CHECK_EQ_INT(drv->provides, bms_topband_driver.provides);
	CHECK(drv->probe == NULL && drv->control == NULL && drv->writer == NULL);
}

/* The frame pushed, in every chunking, inverted too, noise before and after. */
static void test_listen(void)
{
	uint8_t b[200];
	memcpy(b, "\x00RR\r", 4);
	memcpy(b + 4, frame, nframe);
	memcpy(b + 4 + nframe, "RR", 2);
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			struct drive_answer a[] = { { b, 6 + nframe, drive_chunkings[k].ch, drive_chunkings[k].n, 0, 0 } };
			struct drive_res r = { 0 };
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
			check_01(&poll.snap, inv);
		}
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t f[200];
	/* the sum's last digit: a bad frame, counted */
	memcpy(f, frame, nframe);
	f[nframe - 1] = f[nframe - 1] == '0' ? '1' : '0';
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = FEED_BYTES(&poll, &rx, f, nframe, chunks_big);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(drv->handle(&poll, f, nframe), BMS_E_CHECKSUM);
	/* a digit that is none: skipped up to it */
	memcpy(f, frame, nframe);
	f[30] = 'Z';
	bms_rx_clear(&rx);
	r = FEED_BYTES(&poll, &rx, f, nframe, chunks_big);
	CHECK_EQ_INT(r.frames, 0);
	/* truncated, a wrong start byte, too long */
	bms_rx_clear(&rx);
	r = FEED_BYTES(&poll, &rx, frame, nframe - 5, chunks_one);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	memcpy(f, frame, nframe);
	f[0] = 0x3A;
	CHECK_EQ_INT(drv->handle(&poll, f, nframe), BMS_E_HEADER);
	CHECK_EQ_INT(drv->handle(&poll, frame, nframe - 1), BMS_E_SHORT);
	/* a second frame in the same poll: not its */
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, frame, nframe), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, frame, nframe), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
}

int main(void)
{
	nframe = (size_t)drive_hex(PWRXTREME_01, frame, (int)sizeof(frame));
	CHECK_EQ_INT(nframe, 113);
	test_table();
	test_listen();
	test_broken();
	return check_report();
}
