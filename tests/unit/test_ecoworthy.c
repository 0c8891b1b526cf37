/* SPDX-License-Identifier: MIT */
/* tests/unit/test_ecoworthy.c - the Eco-Worthy BW02 BMS over Bluetooth LE
 * (bms/ecoworthy.c): the ecoworthy rows of tests/fixtures/vectors.tsv (the
 * v1 status frame 0xA1 and cell frame 0xA2 of one BMS, the v2 pair of
 * another: its MAC first, the status frame 82 bytes) through scan() +
 * handle() as the gateway's listening poll runs them, in every chunking,
 * in either order, with noise around them, and broken: a bad CRC, a data
 * byte changed, truncated (a v2 status frame cut to the 80 bytes once
 * assumed too), a frame cut short by the next one, wrong lengths and type
 * bytes, SOC and counts out of range, a counted cell marked unused, a
 * sensor beyond -50..150 degC (kept for the gateway's sensor-fault gate),
 * the problem code.
 * Protocol facts: bms/PROTOCOLS.md §35. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_ecoworthy_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family ecoworthy: v1 (one BMS) */
static const char ECO_01[] =
	"a1000000650000000000180103440018004800640531ff8e00002710000100010000000000000000000100020000ffff"
	"000000000000000000000000000000000000000000000000000000000000000000002186";
static const char ECO_02[] =
	"a20000006500000000001801035600040cfb0cfd0cfb0cfaffffffffffffffffffffffffffffffffffffffffffffffffffff"
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff000300cd00c000befc18fc18fc18fc18fc18fc18976a";
/* v2 (another BMS): the MAC e2e779000000, then the type byte */
static const char ECO_03[] =
	"e2e779000000a100000803440008006200640530ffc400002710000100010000000000000000000100020000ffff0000"
	"0000000000000000000100000000000000000000000000000000000000000000d3f6";
static const char ECO_04[] =
	"e2e779000000a2000008035600040cfb0cfc0cfb0cf5ffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff000200dc00d6fc18fc18fc18fc18fc18fc18fc18110e";

static const size_t notif20[] = { 20 };
static const size_t chunks_odd[] = { 1, 2, 7, 13, 1, 26, 3, 11, 40 };

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	int n = drive_hex(hex, out, (int)cap);
	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

static void set_crc(uint8_t *f, size_t n)
{
	uint16_t c = drive_crc16(f, n - 2);
	f[n - 2] = (uint8_t)c;
	f[n - 1] = (uint8_t)(c >> 8);
}

/* The values of the v1 pair (ECO-01/02, aiobmsble's asserted ones). */
static void check_v1(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[4] = { 3323, 3325, 3323, 3322 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.29, 1e-4);
	CHECK_NEAR(s->current, inv ? 1.14 : -1.14, 1e-4);
	CHECK_NEAR(s->soc, 72.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK_NEAR(s->temp_c[0], 20.5, 1e-4);
	CHECK_NEAR(s->temp_c[1], 19.2, 1e-4);
	CHECK_NEAR(s->temp_c[2], 19.0, 1e-4);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->state, inv ? 1 : 2);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
				 BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS);
}

/* The values of the v2 pair (ECO-03/04, aiobmsble's asserted ones): the
 * current's raw -60 in 0.1 A. */
static void check_v2(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[4] = { 3323, 3324, 3323, 3317 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.28, 1e-4);
	CHECK_NEAR(s->current, inv ? 6.0 : -6.0, 1e-4);
	CHECK_NEAR(s->soc, 98.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 22.0, 1e-4);
	CHECK_NEAR(s->temp_c[1], 21.4, 1e-4);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->state, inv ? 1 : 2);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
				 BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "ecoworthy");
	CHECK_EQ_INT(drv->protocol_id, 28);
	CHECK(bms_find("ecoworthy") == drv);
	CHECK(bms_ble_only(drv) && drv->listen_only && !drv->next_request && !drv->listens);
	CHECK_STR(drv->ble->gatt[0].service, "0000fff0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000fff1-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[0].write == NULL); /* the init writes are not sent */
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(!drv->control && !drv->probe && !drv->ble->company);
	CHECK(!(drv->provides & (BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE)));
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_NAME && strcmp(h[0].prefix, "ECO-WORTHY 02_") == 0);
	CHECK(h[1].kind == BMS_BLE_NAME && strcmp(h[1].prefix, "ECO-WORTHY 0B_") == 0);
	CHECK(h[2].kind == BMS_BLE_NAME && strcmp(h[2].prefix, "DCHOUSE") == 0);
	CHECK(h[3].why == NULL);
}

/* The captures as a poll (A1 then A2, A2 then A1), in 20-byte
 * notifications, one byte at a time, odd chunks, one read; v1 and v2. */
static void test_polls(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[120], a2[120], b1[120], b2[120], buf[300];
	CHECK_EQ_INT(unhex(ECO_01, a1, sizeof(a1)), 84);
	CHECK_EQ_INT(unhex(ECO_02, a2, sizeof(a2)), 102);
	CHECK_EQ_INT(unhex(ECO_03, b1, sizeof(b1)), 82);
	CHECK_EQ_INT(unhex(ECO_04, b2, sizeof(b2)), 100);
	const size_t *chs[] = { notif20, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 4; k++)
		for (int v = 0; v < 4; v++) {
			bool v2 = v & 1, rev = v & 2, inv = k & 1;
			const uint8_t *x = v2 ? b1 : a1, *y = v2 ? b2 : a2;
			size_t xl = v2 ? 82 : 84, yl = v2 ? 100 : 102;
			if (rev) {
				memcpy(buf, y, yl);
				memcpy(buf + yl, x, xl);
			} else {
				memcpy(buf, x, xl);
				memcpy(buf + xl, y, yl);
			}
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			struct drive_res r = drive_feed_bytes(&poll, &rx, buf, xl + yl, chs[k], nchs[k]);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.more, 1);
			CHECK_EQ_INT(r.badsum + r.bad_scan + r.err, 0);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			if (v2)
				check_v2(&poll.snap, inv);
			else
				check_v1(&poll.snap, inv);
			CHECK_EQ_INT(poll.snap.present & ~drv->provides, 0);
		}
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(poll.snap.power, 13.28 * 6.0, 1e-2);
}

/* The v2 pair broken: truncated at every length (the status frame cut to
 * the 80 bytes once assumed among them), a bad CRC, the status frame
 * handed whole at a wrong length; nothing is taken. */
static void test_v2_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t b1[120], b2[120], g[300];
	unhex(ECO_03, b1, sizeof(b1));
	unhex(ECO_04, b2, sizeof(b2));

	for (size_t k = 0; k < 82; k++) {
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		memcpy(g, b2, 100);
		memcpy(g + 100, b1, k);
		r = drive_feed_bytes(&poll, &rx, g, 100 + k, notif20, 1);
		CHECK_EQ_INT(r.more, 1);
		CHECK_EQ_INT(r.ok + r.badsum + r.err, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* the first 80 bytes with a CRC of their own: no frame of the BMS's */
	memcpy(g, b1, 80);
	set_crc(g, 80);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(drv->handle(&poll, g, 80) < 0);
	CHECK_EQ_INT(drv->handle(&poll, b1, 81), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, b1, 82), BMS_MORE);
	CHECK_EQ_INT(drv->handle(&poll, b2, 98), BMS_E_HEADER);
	/* a bad CRC (a data byte changed): not taken (alone, it might still
	 * be six bytes before a v1 frame: it waits); before the good ones,
	 * counted (the resync may count a type byte inside it once more) */
	memcpy(g, b1, 82);
	g[19] ^= 0x01;
	memcpy(g + 82, b1, 82);
	memcpy(g + 164, b2, 100);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 82, chunks_odd, DRIVE_NCH(chunks_odd));
	CHECK_EQ_INT(r.frames, 0);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 264, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(r.badsum >= 1 && r.badsum <= 2);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_v2(&poll.snap, false);
	memcpy(g, b1, 82);
	g[19] ^= 0x01;
	CHECK_EQ_INT(drv->handle(&poll, g, 82), BMS_E_CHECKSUM);
}

/* Noise before, between and after: the frames are found; every split into
 * two reads.  Six bytes of noise before a v1 frame read as a v2 frame
 * whose CRC fails, but the good v1 frame behind them says they are none:
 * not counted. */
static void test_noise(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t buf[400], a1[120];
	size_t len;
	static const uint8_t junk[] = { 0x00, 0x41, 0x54, '\r', '\n', 0x12, 0xFF };
	memcpy(buf, junk, sizeof(junk));
	len = sizeof(junk);
	len += unhex(ECO_02, buf + len, sizeof(buf) - len);
	memcpy(buf + len, junk, 3);
	len += 3;
	len += unhex(ECO_01, buf + len, sizeof(buf) - len);
	memcpy(buf + len, junk, sizeof(junk));
	len += sizeof(junk);
	for (size_t k = 1; k < len; k++) {
		const size_t two[] = { k, len - k };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, two, 2);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_v1(&poll.snap, false);
	}
	unhex(ECO_01, a1, sizeof(a1));
	CHECK_EQ_INT(drv->handle(&poll, a1, 84), BMS_OK); /* a later A1 replaces the values */
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t a1[120], a2[120], g[400];
	unhex(ECO_01, a1, sizeof(a1));
	unhex(ECO_02, a2, sizeof(a2));

	/* the CRC's byte changed: counted, not taken; then the good ones */
	memcpy(g, a1, 84);
	g[83] ^= 0x40;
	memcpy(g + 84, a1, 84);
	memcpy(g + 168, a2, 102);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 84, notif20, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 270, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 1);
	check_v1(&poll.snap, false);
	/* a data byte changed (the voltage): the CRC fails */
	memcpy(g, a1, 84);
	g[21] ^= 0x01;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 84, chunks_odd, DRIVE_NCH(chunks_odd));
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.frames, 0);
	/* only one of the two frames: the poll is not complete */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, a2, 102, notif20, 1);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* truncated: nothing */
	for (size_t k = 0; k < 84; k += 7) {
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		r = drive_feed_bytes(&poll, &rx, a1, k, chunks_odd, DRIVE_NCH(chunks_odd));
		CHECK_EQ_INT(r.frames + r.badsum, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* cut short by the next frame (a lost notification): one bad frame
	 * counted, then both taken */
	memcpy(g, a1, 40);
	memcpy(g + 40, a1, 84);
	memcpy(g + 124, a2, 102);
	memcpy(g + 226, a1, 84);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 310, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 1);
	check_v1(&poll.snap, false);
	/* handed whole to handle(): too short, a wrong length, a wrong type */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drv->handle(&poll, a1, 79), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, a1, 83), BMS_E_HEADER);
	CHECK_EQ_INT(drv->handle(&poll, a2, 84), BMS_E_HEADER); /* A2 is 102 bytes */
	memcpy(g, a1, 84);
	g[0] = 0xA3;
	CHECK_EQ_INT(drv->handle(&poll, g, 84), BMS_E_HEADER);
	g[0] = 0xA1;
	g[10] ^= 1;
	CHECK_EQ_INT(drv->handle(&poll, g, 84), BMS_E_CHECKSUM);
	CHECK_EQ_INT(drv->handle(&poll, a1, 84), BMS_MORE);
}

/* A frame from v1 frame f (n bytes) with byte i set to v (CRC fixed),
 * handled in a fresh poll: handle()'s result. */
static int patched(const uint8_t *f, size_t n, size_t i, uint8_t v)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t g[120];
	memcpy(g, f, n);
	g[i] = v;
	set_crc(g, n);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	return drv->handle(&poll, g, n);
}

static void test_values(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[120], a2[120], g[120];
	unhex(ECO_01, a1, sizeof(a1));
	unhex(ECO_02, a2, sizeof(a2));

	CHECK_EQ_INT(patched(a1, 84, 17, 101), BMS_E_RANGE); /* SOC 101 % */
	CHECK_EQ_INT(patched(a1, 84, 19, 101), BMS_E_RANGE); /* SOH 101 % */
	CHECK_EQ_INT(patched(a1, 84, 20, 0x30), BMS_E_RANGE); /* 122.9 V */
	CHECK_EQ_INT(patched(a2, 102, 15, 0), BMS_E_RANGE);   /* no cells */
	CHECK_EQ_INT(patched(a2, 102, 15, 33), BMS_E_RANGE);  /* 33 cells */
	CHECK_EQ_INT(patched(a2, 102, 15, 5), BMS_E_RANGE);   /* the 5th is 0xFFFF */
	CHECK_EQ_INT(patched(a2, 102, 81, 10), BMS_E_RANGE);  /* 10 sensors in 9 slots */
	CHECK_EQ_INT(patched(a2, 102, 81, 4), BMS_MORE);      /* the 4th reads -100 degC (0xFC18) ... */
	memcpy(g, a2, 102);
	g[81] = 4;
	set_crc(g, 102);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drv->handle(&poll, g, 102), BMS_MORE);
	CHECK_EQ_INT(poll.snap.ntemps, 4);
	CHECK_NEAR(poll.snap.temp_c[3], -100.0, 1e-4);
	CHECK_EQ_INT(bms_sensor_faults(&poll.snap, NULL), 1u << 3); /* ... a sensor fault, not a lost frame */
	CHECK(isnan(poll.snap.temp_c[3]));
	CHECK_NEAR(poll.snap.temp_c[0], 20.5, 1e-4);
	CHECK_EQ_INT(patched(a2, 102, 81, 0), BMS_MORE);      /* no sensor: served without */
	/* the problem code: raw, and the OTHER alarm */
	memcpy(g, a1, 84);
	g[52] = 0x04;
	set_crc(g, 84);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drv->handle(&poll, a2, 102), BMS_MORE);
	CHECK_EQ_INT(drv->handle(&poll, g, 84), BMS_OK);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 4);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	/* a bad A1 after a good one keeps the good one's values */
	CHECK_EQ_INT(patched(a1, 84, 17, 200), BMS_E_RANGE);
	/* cells forced: 3 */
	drive_begin_link(&poll, &rx, 0, 3, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drv->handle(&poll, a2, 102), BMS_MORE);
	CHECK_EQ_INT(drv->handle(&poll, a1, 84), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 0);
	/* 0 V with cells: not a sample (the pack check) */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	memcpy(g, a1, 84);
	g[20] = g[21] = 0;
	set_crc(g, 84);
	CHECK_EQ_INT(drv->handle(&poll, g, 84), BMS_MORE);
	CHECK_EQ_INT(drv->handle(&poll, a2, 102), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_polls();
	test_noise();
	test_broken();
	test_v2_broken();
	test_values();
	return check_report();
}
