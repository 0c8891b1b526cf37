/* SPDX-License-Identifier: MIT */
/* tests/unit/test_epoch_pro.c - Epoch Pro batteries over Bluetooth LE
 * (bms/epoch_pro.c): the epoch rows of tests/fixtures/vectors.tsv
 * (aiobmsble's capture of a system of two 16S packs: the total and each
 * pack, with the three requests) through scan() + handle() in whole polls
 * as the gateway runs them, in every chunking, with the request echoed and
 * noise before each answer; the packs in parallel (the first pack's cells,
 * every pack's extremes and sensors); broken copies made here (the CRC,
 * truncated, the head, a late answer of another read, another pack, pack
 * and cell counts no system has); forced cells.  Protocol facts:
 * bms/PROTOCOLS.md §77. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_epoch_pro_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define EPOCH_REQ_1 "faf3167654010037c724"
#define EPOCH_REQ_2 "faf31675f8010052625f"
#define EPOCH_REQ_3 "faf31675f8020052925f"
#define EPOCH_01 \
	"faf316016e0000000004b00000005b0064238c14c90000010e00000000187a00000000000000000000000000000000000200" \
	"00000000000cfd0cff001b001b3230312d003100003230312d003400003130302d003100003130302d003100000000000000" \
	"0000000038aaa802aaaaa80082003c6b2f"
#define EPOCH_02 \
	"faf31601a4024001e00258012cc878000000007530000a00000c2c00000000797c00100cfe0cfd00100007001b001b000400" \
	"0314c9000010040000000000000000000000000000038e006400000cfe0cfd0cfd0cfd0cfe0cfe0cfd0cfd0cfe0cfe0cfe0c" \
	"fe0cfe0cff0cfe0cfe001b001b001b001b0022001d001d0c1700120000000000000000000031363600003100000000000000" \
	"0000000000000032333131333030313032383375b5"
#define EPOCH_03 \
	"faf31602a4024001e00258012cc878000000007530000a00000c4e000000007b0c00100cff0cfc00100002001b001b000400" \
	"0314c9000010040000000000000000000000000000038e006400000cfe0cfc0cfd0cfd0cfd0cfd0cfd0cfd0cfe0cfe0cfe0c" \
	"fd0cff0cff0cff0cff001b001b001b001b0023001d001d0c1700120000000000000000000031363600003100000000000000" \
	"00000000000000323331313330303130343334ae94"

static void check_sys(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[16] = { 3326, 3325, 3325, 3325, 3326, 3326, 3325, 3325,
					3326, 3326, 3326, 3326, 3326, 3327, 3326, 3326 };
	drive_check_cells(s, c, 16); /* the first pack's string */
	CHECK_NEAR(s->voltage, 53.21, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	(void)inv;
	CHECK_NEAR(s->soc, 91.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 10);
	CHECK_EQ_INT(s->ntemps, 8); /* both packs' four */
	for (int i = 0; i < 8; i++)
		CHECK_NEAR(s->temp_c[i], 27.0, 1e-6);
	/* the extremes of both packs: pack 2's 3324 mV at its cell 2 */
	CHECK(s->present & BMS_HAS_CELL_EXT);
	CHECK_EQ_INT(s->ext_max_mv, 3327);
	CHECK_EQ_INT(s->ext_min_mv, 3324);
	CHECK_EQ_INT(s->ext_min_cell, 2);
	CHECK(s->present & BMS_HAS_TEMP_EXT);
	CHECK_NEAR(s->ext_tmax_c, 27.0, 1e-6);
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	CHECK_EQ_INT(cs.min_mv, 3324);
	CHECK_EQ_INT(cs.max_mv, 3327);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "epoch-pro");
	CHECK_EQ_INT(drv->protocol_id, 67);
	CHECK(bms_find("epoch-pro") == drv);
	drive_check_ble16("ffe0", "ffe4", "ffe1");
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_SERVICE_DATA && h[0].value == 0xFFE03333u && h[0].prefix == NULL);
	CHECK(h[1].why == NULL);
	CHECK(drv->writer == NULL && drv->ble->auth == NULL);
}

/* The total, then each pack, answered in every chunking (the request
 * echoed and a byte of noise before each), inverted too. */
static void test_polls(void)
{
	static uint8_t b[3][256];
	static const char *const ans[3] = { EPOCH_01, EPOCH_02, EPOCH_03 };
	static const char *const req[3] = { EPOCH_REQ_1, EPOCH_REQ_2, EPOCH_REQ_3 };
	size_t n[3];
	for (int i = 0; i < 3; i++) {
		int q = drive_hex(req[i], b[i], 256);
		b[i][q] = 0x00;
		n[i] = (size_t)q + 1 + (size_t)drive_hex(ans[i], b[i] + q + 1, 256 - q - 1);
	}
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			CHECK(drive_req_is(&poll, EPOCH_REQ_1));
			struct drive_answer a[3];
			for (int i = 0; i < 3; i++)
				a[i] = (struct drive_answer){ b[i], n[i], drive_chunkings[k].ch, drive_chunkings[k].n,
							      0, 10 };
			struct drive_res r = { 0 };
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 3, &r), BMS_OK);
			CHECK_EQ_INT(r.skipped, 3 * 11); /* each echo and its noise */
			check_sys(&poll.snap, inv);
		}
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_handle_at(EPOCH_01, 0) == BMS_OK);
	uint8_t q[16];
	CHECK_EQ_INT(drv->next_request(&poll, q, 9), BMS_E_NOSPACE);
	poll.step = 16;
	CHECK_EQ_INT(drv->next_request(&poll, q, sizeof(q)), BMS_E_RANGE);
}

/* A frame of the capture with byte i set to v, the CRC made again. */
static size_t edit(const char *hex, int i, uint8_t v, uint8_t *f)
{
	size_t n = (size_t)drive_hex(hex, f, 256);
	if (i >= 0)
		f[i] = v;
	uint16_t c = drive_crc16(f, n - 2);
	f[n - 2] = (uint8_t)c;
	f[n - 1] = (uint8_t)(c >> 8);
	return n;
}

/* The poll at step 1 after the capture's total. */
static void after_total(struct bms_poll *poll)
{
	uint8_t f[256];
	size_t n = (size_t)drive_hex(EPOCH_01, f, 256);
	bms_poll_begin(poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(poll, f, n), BMS_OK);
}

static void test_broken(void)
{
	uint8_t f[256];
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	size_t n = (size_t)drive_hex(EPOCH_01, f, 256);
	/* the CRC: counted, dropped a byte at a time */
	f[n - 1] ^= 0x01;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_res r = FEED_BYTES(&poll, &rx, f, n, chunks_big);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_CHECKSUM);
	/* truncated, the head, a length byte not the frame's */
	bms_rx_clear(&rx);
	n = edit(EPOCH_01, -1, 0, f);
	r = FEED_BYTES(&poll, &rx, f, n - 4, chunks_one);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK_EQ_INT(drv->handle(&poll, f, n - 1), BMS_E_SHORT);
	n = edit(EPOCH_01, 1, 0xF4, f);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_HEADER);
	/* a pack's answer where the total is outstanding, the total after it,
	 * another pack's, a pack beyond the count */
	CHECK_EQ_INT(drive_handle_at(EPOCH_02, 0), BMS_E_UNEXPECTED);
	after_total(&poll);
	n = (size_t)drive_hex(EPOCH_01, f, 256);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_UNEXPECTED);
	n = (size_t)drive_hex(EPOCH_03, f, 256);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_UNEXPECTED);
	poll.step = 3;
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_UNEXPECTED);
	/* counts no system has: 0 or 16 packs, SOC 101; 17 cells, 9 sensors */
	n = edit(EPOCH_01, 5 + 43, 0, f);
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
	n = edit(EPOCH_01, 5 + 43, 16, f);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
	n = edit(EPOCH_01, 5 + 9, 101, f);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
	after_total(&poll);
	n = edit(EPOCH_02, 55, 17, f);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
	n = edit(EPOCH_02, 56, 9, f);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
	/* one pack: whole after it; forced cells */
	n = edit(EPOCH_01, 5 + 43, 1, f);
	bms_poll_begin(&poll, 0, 12, false);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = (size_t)drive_hex(EPOCH_02, f, 256);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	uint8_t q[16];
	CHECK_EQ_INT(drv->next_request(&poll, q, sizeof(q)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 12);
	CHECK_EQ_INT(poll.snap.ntemps, 4);
	/* a sub-zero sensor, a discharge current */
	after_total(&poll);
	n = edit(EPOCH_02, 109, 0xFF, f);
	f[110] = 0xF6; /* -10 degC */
	uint16_t c = drive_crc16(f, n - 2);
	f[n - 2] = (uint8_t)c;
	f[n - 1] = (uint8_t)(c >> 8);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_NEAR(poll.snap.temp_c[0], -10.0, 1e-6);
	n = edit(EPOCH_01, 5 + 16, 0xFF, f);
	f[5 + 17] = 0xFB; /* -5 A */
	c = drive_crc16(f, n - 2);
	f[n - 2] = (uint8_t)c;
	f[n - 1] = (uint8_t)(c >> 8);
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_NEAR(poll.snap.current, -5.0, 1e-6);
}

int main(void)
{
	test_table();
	test_polls();
	test_broken();
	return check_report();
}
