/* SPDX-License-Identifier: MIT */
/* tests/unit/test_topband.c - the Topband BMS over Bluetooth LE (KiloVault
 * HLX+, Ective, Startcraft; bms/topband.c): the topband rows of
 * tests/fixtures/vectors.tsv (an Ective and a KiloVault v1 frame) through
 * scan() + handle() as the gateway's listening poll runs them, in every
 * chunking, with noise before, between and after the frames, and broken: a
 * bad sum, a data digit changed, a character that is no hex digit,
 * truncated, a frame cut short by the next one, SOC out of range, a
 * temperature no sensor reads, no cells, the status byte.  Protocol facts:
 * bms/PROTOCOLS.md §34. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_topband_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family topband */
static const char TOPBAND_01[] =
	"5e383433353030303046384344464646463243463930323030393730313632303045313042303030303030303035"
	"45304437313044363530443545304430303030303030303030303030303030303030303030303030303030303030"
	"303030303030303030303030303030303030393446";
static const char TOPBAND_02[] =
	"b0393033333030303033454645464646463334304630333030374430303545303039313042303030313030303044"
	"45304330383044453230433035304430303030303030303030303030303030303030303030303030303030303030"
	"303030303030303030303030303030303030374241";

static const size_t notif20[] = { 20 };
static const size_t chunks_odd[] = { 1, 2, 7, 13, 1, 26, 3, 11, 40 };

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	int n = drive_hex(hex, out, (int)cap);
	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

/* A frame of start byte sof from a 56-byte block whose sum (54..55) is set
 * here. */
static size_t build(uint8_t *out, uint8_t sof, uint8_t *b)
{
	unsigned s = 0;
	for (int i = 0; i < 54; i++)
		s += b[i];
	b[54] = (uint8_t)(s >> 8);
	b[55] = (uint8_t)s;
	out[0] = sof;
	for (int i = 0; i < 56; i++) {
		char h[3];
		snprintf(h, sizeof(h), "%02X", b[i]);
		out[1 + 2 * i] = (uint8_t)h[0];
		out[2 + 2 * i] = (uint8_t)h[1];
	}
	return 113;
}

/* The block of TOPBAND-01 (its digits decoded). */
static void block_01(uint8_t *b)
{
	uint8_t f[200];
	unhex(TOPBAND_01, f, sizeof(f));
	char d[113];
	memcpy(d, f + 1, 112);
	d[112] = '\0';
	CHECK_EQ_INT(drive_hex(d, b, 56), 56);
}

static void check_01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[4] = { 3422, 3441, 3429, 3422 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.7, 1e-4);
	CHECK_NEAR(s->current, inv ? 12.808 : -12.808, 1e-4);
	CHECK_NEAR(s->remain_ah, 194.86, 1e-3);
	CHECK_NEAR(s->soc, 98.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 407);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 30.95, 1e-3); /* 3041 x 0.1 K, unrounded (aiobmsble) */
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->state, inv ? 1 : 2);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_CYCLES |
				 BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS);
}

static void check_02(const struct bms_snapshot *s)
{
	static const uint16_t c[4] = { 3294, 3336, 3298, 3333 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.2, 1e-4);
	CHECK_NEAR(s->current, -0.45, 1e-5);
	CHECK_NEAR(s->remain_ah, 200.5, 1e-3);
	CHECK_NEAR(s->soc, 94.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 125);
	CHECK_NEAR(s->temp_c[0], 22.95, 1e-3);
	/* byte 19 is 0x01 (syssi's 16-bit "error" 0x0100): not the status */
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "topband");
	CHECK_EQ_INT(drv->protocol_id, 27);
	CHECK(bms_find("topband") == drv);
	CHECK(bms_ble_only(drv) && drv->listen_only && !drv->next_request && !drv->listens);
	CHECK_STR(drv->ble->gatt[0].service, "0000ffe0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000ffe4-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[0].write == NULL); /* nothing is ever written */
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(!drv->control && !drv->probe && !drv->ble->company);
	CHECK(!(drv->provides & (BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_FULL | BMS_HAS_MOSFETS | BMS_HAS_BALANCE)));
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_COMPANY_SERVICE && h[0].value == 0xFFE00000u); /* FFE0 and 0x0000 */
	CHECK(h[1].kind == BMS_BLE_COMPANY_SERVICE && h[1].value == 0xFFE0FFFFu); /* FFE0 and 0xFFFF */
	CHECK(h[2].why == NULL);
}

/* Each capture as a poll, in 20-byte notifications, one byte at a time,
 * odd chunks, one read. */
static void test_polls(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f1[200], f2[200];
	CHECK_EQ_INT(unhex(TOPBAND_01, f1, sizeof(f1)), 113);
	CHECK_EQ_INT(unhex(TOPBAND_02, f2, sizeof(f2)), 113);
	const size_t *chs[] = { notif20, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 4; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct drive_res r = { 0 };
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			struct drive_answer a[1] = { { f1, 113, chs[k], nchs[k], 0, DRIVE_LISTENS } };
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
			check_01(&poll.snap, inv);
			CHECK_EQ_INT(r.badsum + r.bad_scan + r.err, 0);
			drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
			a[0].p = f2;
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
			check_02(&poll.snap);
		}
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(poll.snap.power, -13.2 * 0.45, 1e-3);
	/* lower-case digits are digits too */
	uint8_t lc[113];
	memcpy(lc, f1, 113);
	for (int i = 1; i < 113; i++)
		if (lc[i] >= 'A' && lc[i] <= 'F')
			lc[i] = (uint8_t)(lc[i] - 'A' + 'a');
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = drive_feed_bytes(&poll, &rx, lc, 113, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	check_01(&poll.snap, false);
}

/* Noise before, between and after (aiobmsble's samples carry some): the
 * frames are found; every split into two reads. */
static void test_noise(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t buf[400], f[200];
	size_t len = 0;
	static const uint8_t junk[] = { 0x00, 'R', 'R', '\r', '\n', 0x12, '3', '4' };
	memcpy(buf, junk, sizeof(junk));
	len = sizeof(junk);
	len += unhex(TOPBAND_02, buf + len, sizeof(buf) - len);
	memcpy(buf + len, junk, 3);
	len += 3;
	len += unhex(TOPBAND_01, buf + len, sizeof(buf) - len);
	for (size_t k = 1; k < len; k++) {
		const size_t two[] = { k, len - k };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, two, 2);
		CHECK_EQ_INT(r.ok, 1); /* the poll ends at the first frame */
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		check_02(&poll.snap);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
	/* a second frame in the same poll is not taken */
	unhex(TOPBAND_01, f, sizeof(f));
	CHECK_EQ_INT(drv->handle(&poll, f, 113), BMS_E_UNEXPECTED);
	check_02(&poll.snap);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t f[300], g[300];
	unhex(TOPBAND_01, f, sizeof(f));

	/* the sum's last digit changed: counted, not taken; then a good one */
	memcpy(g, f, 113);
	g[112] = g[112] == 'F' ? 'E' : 'F';
	memcpy(g + 113, f, 113);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 113, notif20, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 226, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 1);
	check_01(&poll.snap, false);
	/* a data digit changed: the sum fails */
	memcpy(g, f, 113);
	g[3] = g[3] == '3' ? '4' : '3';
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 113, chunks_odd, DRIVE_NCH(chunks_odd));
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.frames, 0);
	/* a character that is no hex digit: skipped, no frame */
	memcpy(g, f, 113);
	g[60] = 'x';
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 113, notif20, 1);
	CHECK_EQ_INT(r.frames + r.badsum, 0);
	/* truncated: nothing, the poll not complete */
	for (size_t k = 0; k < 113; k += 7) {
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		r = drive_feed_bytes(&poll, &rx, f, k, chunks_odd, DRIVE_NCH(chunks_odd));
		CHECK_EQ_INT(r.frames + r.badsum, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* cut short by the next frame's start byte (a lost notification) */
	memcpy(g, f, 60);
	memcpy(g + 60, f, 113);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 173, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 0);
	/* a frame handed whole to handle(): too short, another start byte */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drv->handle(&poll, f, 112), BMS_E_SHORT);
	memcpy(g, f, 113);
	g[0] = 0x5F;
	CHECK_EQ_INT(drv->handle(&poll, g, 113), BMS_E_HEADER);
	g[0] = 0x83; /* Startcraft's start byte: the same frame */
	CHECK_EQ_INT(drv->handle(&poll, g, 113), BMS_OK);
}

/* Values: SOC 101 %, a temperature no sensor reads, no cells, the status
 * byte, cells forced. */
static void test_values(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t b[56], f[113];
	struct drive_res r;

	block_01(b);
	b[14] = 101;
	build(f, 0xE8, b);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, f, 113, notif20, 1);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* a current beyond 2000 A */
	block_01(b);
	b[7] = 0x7F;
	build(f, 0x5E, b);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, f, 113, notif20, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* temperature 0 K: no sensor's reading, the rest served; kept for the
	 * gateway's gate, which serves it absent with a sensor fault */
	block_01(b);
	b[16] = b[17] = 0;
	build(f, 0x5E, b);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, f, 113, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], -273.15, 1e-3);
	CHECK_EQ_INT(bms_sensor_faults(&poll.snap, NULL), 1u << 0);
	CHECK(bms_plausible(&poll.snap, NULL));
	/* the status byte: raw, and the OTHER alarm */
	block_01(b);
	b[18] = 0x04;
	build(f, 0x5E, b);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, f, 113, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 4);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	/* cells forced: 3 */
	drive_begin_link(&poll, &rx, 0, 3, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, f, 113, notif20, 1);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 0);
	/* no cells and 0 V: not a sample */
	memset(b, 0, sizeof(b));
	b[16] = 0xE1;
	b[17] = 0x0B;
	build(f, 0x5E, b);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, f, 113, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_polls();
	test_noise();
	test_broken();
	test_values();
	return check_report();
}
