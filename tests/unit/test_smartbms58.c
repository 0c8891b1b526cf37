/* SPDX-License-Identifier: MIT */
/* tests/unit/test_smartbms58.c - the 123SmartBMS's 58-byte frame over
 * Bluetooth LE (bms/smartbms58.c): the smartbms58 rows of
 * tests/fixtures/vectors.tsv (aiobmsble's stream of a 4-cell pack, one
 * cell a frame, and a frame without a cell) through scan() + handle() as
 * the gateway runs a poll of listening steps, in every chunking: a poll
 * whole once every cell came; the slow keys (SOH, cycles, the nominal
 * voltage: frames made from the rows, their sums recomputed) kept from
 * poll to poll as they come; broken input (a bad sum, garbage before a frame, a sign byte that
 * is none, a count that changes within a poll, a zero voltage, a cell
 * number beyond the count); nothing is ever written.  Protocol facts:
 * bms/PROTOCOLS.md §74. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_smartbms58_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family smartbms58 */
#define SMARTBMS58_01 \
	"002a082b00005800002d004002720102800401280101280401040291012803000000000fa00000003c000000000000190000" \
	"a0000000000000dc"
#define SMARTBMS58_02 \
	"002a082b00005800002d004002720102800401280101280402040292012803000000000fa00000003c000000000000190000" \
	"a0000000000000de"
#define SMARTBMS58_03 \
	"002a082b00005800002d004002720102800401280101280403040293012803000000000fa00000003c000000000000190000" \
	"a0000000000000e0"
#define SMARTBMS58_04 \
	"002a082b00005800002d004002720102800401280101280404040294012803000000000fa00000003c000000000000190000" \
	"a0000000000000e2"
#define SMARTBMS58_05 \
	"002a082b00005800002d004002720102800401280101280400040272012803000000000fa00000003c000000000000196100" \
	"a00000000000001d"
static const char *const frames[] = { SMARTBMS58_01, SMARTBMS58_02, SMARTBMS58_03, SMARTBMS58_04 };
static const uint16_t cells_4[4] = { 3285, 3290, 3295, 3300 };

/* A row's frame with byte 47 / 48 (its key) made key k, value v, the sum
 * made right. */
static void keyed(const char *hex, int k, int v, uint8_t *f)
{
	CHECK_EQ_INT(check_hex(hex, f, 58), 58);
	f[47] = (uint8_t)(k + 25);
	f[48] = (uint8_t)v;
	unsigned sum = 0;
	for (int i = 0; i < 57; i++)
		sum += f[i];
	f[57] = (uint8_t)sum;
}

static void begin(struct bms_poll *poll, struct bms_rx *rx, bool refresh)
{
	drive_begin_link(poll, rx, 0, 0, false, BMS_LINK_BLE, false);
	poll->refresh = refresh;
}

static void test_table(void)
{
	CHECK(bms_ble_only(drv) && !drv->listen_only && drv->listens && drv->keep_rx);
	CHECK(drv->ble->gatt && drv->ble->gatt[0].write == NULL && drv->ble->gatt[1].service == NULL);
	CHECK_STR(drv->ble->gatt[0].notify, "6e400003-b5a3-f393-e0a9-e50e24dcca9e");
	CHECK(drv->ble->pin == NULL);
	CHECK_STR(drv->name, "smartbms58");
	CHECK_EQ_INT(drv->protocol_id, 64);
	CHECK(drive_hinted("123BMS-BLE-0A1B") && !drive_hinted("123\\SmartBMS"));
}

static void test_poll(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		begin(&poll, &rx, false);
		CHECK(drv->listens(&poll));
		CHECK_EQ_INT(drive_poll_hex(&poll, &rx, frames, 4, &drive_chunkings[k], DRIVE_LISTENS), BMS_OK);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_NEAR(s->voltage, 53.8, 1e-4);
		CHECK_NEAR(s->current, -8.0, 1e-6);
		CHECK_NEAR(s->soc, 60.0, 1e-6);
		drive_check_cells(s, cells_4, 4);
		CHECK_EQ_INT(s->ntemps, 4);
		CHECK_NEAR(s->temp_c[0], 20.0, 1e-6);
		CHECK_NEAR(s->temp_c[3], 20.0, 1e-6);
		CHECK_NEAR(s->ext_tmax_c, 20.0, 1e-6);
		CHECK_NEAR(s->ext_tmin_c, 20.0, 1e-6);
		CHECK_EQ_INT(s->ext_max_mv, 3200); /* the frame's own highest / lowest (bytes 15, 12) */
		CHECK_EQ_INT(s->ext_min_mv, 3130);
		CHECK(s->chg_mos && s->dsg_mos);
		CHECK_EQ_INT(s->alarms, 0);
		CHECK_NEAR(s->soh, 0.0, 1e-6); /* key 0 with 0 in these frames */
		CHECK(!(s->present & (BMS_HAS_CYCLES | BMS_HAS_FULL)));
	}
	/* a frame without a cell on the way: taken (its SOH 97 kept), the poll
	 * still waits for the cells */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, false);
	struct drive_res r = drive_feed_hex(&poll, &rx, SMARTBMS58_05, chunks_big, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(drv->listens(&poll));
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(drive_feed_hex(&poll, &rx, frames[i], drive_notif20, 1).ok, 1);
	CHECK(!drv->listens(&poll));
	uint8_t req[8];
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.soh, 0.0, 1e-6); /* the later frames' key 0 says 0 */
	/* the SOH of a frame is kept: a poll that has it only from before */
	begin(&poll, &rx, false);
	CHECK_EQ_INT(drive_feed_hex(&poll, &rx, SMARTBMS58_05, chunks_big, 1).ok, 1);
	uint8_t f[58];
	for (int i = 0; i < 4; i++) {
		keyed(frames[i], 1, 0, f); /* another key */
		CHECK_EQ_INT(FEED_BYTES(&poll, &rx, f, 58, chunks_big).ok, 1);
	}
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.soh, 97.0, 1e-6);
	begin(&poll, &rx, false);
	for (int i = 0; i < 4; i++) {
		keyed(frames[i], 2, 0, f);
		CHECK_EQ_INT(FEED_BYTES(&poll, &rx, f, 58, chunks_big).ok, 1);
	}
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.soh, 97.0, 1e-6);
}

/* The slow keys come a second each, kept from poll to poll. */
static void test_keys(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t f[58];
	static const int keys[][2] = { { 0, 97 }, { 4, 0x02 }, { 5, 0x80 }, { 8, 0x01 } };
	begin(&poll, &rx, true);
	for (int i = 0; i < 4; i++) {
		keyed(frames[i], keys[i][0], keys[i][1], f);
		CHECK_EQ_INT(FEED_BYTES(&poll, &rx, f, 58, drive_odd).ok, 1);
	}
	/* whole with its cells, whatever keys came */
	CHECK(!drv->listens(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.soh, 97.0, 1e-6);
	/* 16.0 kWh over 4 cells of 3.2 V: 1250 Ah */
	CHECK_NEAR(poll.snap.full_ah, 1250.0, 1e-3);
	CHECK(!(poll.snap.present & BMS_HAS_CYCLES)); /* key 9 not yet */
	/* the next poll brings key 9: 0x012C = 300 cycles; the rest kept */
	begin(&poll, &rx, false);
	for (int i = 0; i < 4; i++) {
		keyed(frames[i], i ? 3 : 9, i ? 0 : 0x2C, f);
		CHECK_EQ_INT(FEED_BYTES(&poll, &rx, f, 58, chunks_one).ok, 1);
	}
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.cycles, 300);
	CHECK_NEAR(poll.snap.full_ah, 1250.0, 1e-3);
	CHECK_NEAR(poll.snap.soh, 97.0, 1e-6);
	/* status 2's warning bits (key 16 & 0x0E): other */
	begin(&poll, &rx, false);
	for (int i = 0; i < 4; i++) {
		keyed(frames[i], 16, i == 3 ? 0x04 : 0, f);
		CHECK_EQ_INT(FEED_BYTES(&poll, &rx, f, 58, chunks_big).ok, 1);
	}
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	CHECK_EQ_INT(poll.snap.raw_alarms[1], 0x04);
	/* cells that never all come: the poll ends after 80 frames, refused */
	struct bms_poll p2 = { 0 };
	begin(&p2, &rx, false);
	int taken = 0;
	while (drv->listens(&p2) && taken < 100) {
		CHECK_EQ_INT(drive_feed_hex(&p2, &rx, frames[taken % 3], chunks_big, 1).ok, 1);
		taken++;
	}
	CHECK_EQ_INT(taken, 80);
	CHECK_EQ_INT(drv->next_request(&p2, f, sizeof(f)), 0);
	CHECK_EQ_INT(drv->finish(&p2), BMS_E_INVALID);
}

/* The sum of f[0..57) into f[57]. */
static void resum(uint8_t *f)
{
	unsigned sum = 0;
	for (int i = 0; i < 57; i++)
		sum += f[i];
	f[57] = (uint8_t)sum;
}

static void test_broken(void)
{
	uint8_t f[2 * 58 + 8], b[58];
	size_t n = 0;
	/* garbage before a frame; a frame with a bad sum before a good one */
	drive_check_broken(0, 1, "2b0001ff7e", SMARTBMS58_01, 0, 0, NULL);
	CHECK_EQ_INT(check_hex(SMARTBMS58_02, b, 58), 58);
	b[57] ^= 0x40;
	char bad[2 * 58 + 1];
	for (int i = 0; i < 58; i++)
		snprintf(bad + 2 * i, 3, "%02x", b[i]);
	drive_check_broken(0, 1, bad, SMARTBMS58_01, 1, 0, NULL);
	/* every part of a frame needs the rest */
	drive_scan_whole(SMARTBMS58_03, f, sizeof(f), 58);
	/* a sign byte that is none, a cell number beyond the count: no frame
	 * for the framer, refused by handle() */
	static const int at[2] = { 9, 24 }, val[2] = { '?', 5 };
	for (int k = 0; k < 2; k++) {
		CHECK_EQ_INT(check_hex(SMARTBMS58_01, b, 58), 58);
		b[at[k]] = (uint8_t)val[k];
		resum(b);
		CHECK_EQ_INT(drv->scan(NULL, b, 58, &n), BMS_SCAN_SKIP);
		struct bms_poll p1;
		bms_poll_begin(&p1, 0, 0, false);
		CHECK_EQ_INT(drv->handle(&p1, b, 58), BMS_E_RANGE);
	}
	/* a zero voltage */
	CHECK_EQ_INT(check_hex(SMARTBMS58_01, b, 58), 58);
	b[0] = b[1] = b[2] = 0;
	resum(b);
	CHECK_EQ_INT(drive_bad_frame(b, 58, 0), BMS_E_RANGE);
	/* a count that changes within a poll */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, false);
	CHECK_EQ_INT(drive_feed_hex(&poll, &rx, SMARTBMS58_01, chunks_big, 1).ok, 1);
	CHECK_EQ_INT(check_hex(SMARTBMS58_02, b, 58), 58);
	b[25] = 5;
	resum(b);
	struct drive_res r = FEED_BYTES(&poll, &rx, b, 58, chunks_big);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* handle() on what the framer never gives */
	CHECK_EQ_INT(drv->handle(&poll, b, 57), BMS_E_SHORT);
	b[57] ^= 1;
	CHECK_EQ_INT(drv->handle(&poll, b, 58), BMS_E_CHECKSUM);
	/* nothing is ever written */
	begin(&poll, &rx, false);
	CHECK_EQ_INT(drv->next_request(&poll, f, sizeof(f)), BMS_E_RANGE);
}

int main(void)
{
	test_table();
	test_poll();
	test_keys();
	test_broken();
	return check_report();
}
