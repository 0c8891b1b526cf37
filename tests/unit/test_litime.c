/* SPDX-License-Identifier: MIT */
/* tests/unit/test_litime.c - LiTime / Redodo / Power Queen over Bluetooth LE
 * (bms/litime.c): the litime rows of tests/fixtures/vectors.tsv (a Redodo
 * 24 V 8S, a Power Queen 12 V 4S, a Redodo 12 V 100 Ah) through scan() +
 * handle() in whole polls as the gateway runs them, in every chunking
 * (20-byte notifications, split at every boundary, one byte at a time, with
 * junk, echoes and other answers around), and broken: a bad checksum,
 * truncated, a wrong length field, another command's answer, values out of
 * range.  Protocol facts: bms/PROTOCOLS.md §30. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_litime_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family litime */
#define LITIME_REQ_13 "000004011355aa17"
#define LITIME_01 "000065019355aa0046660000bc670000f50cf70cfc0cfb0cf80cf20cfa0cf50c0000000000000000" \
	"000000000000000065faffff17001600feff00000000e91a04290000000000000000000000000000" \
	"00000000000000000000410064000000030000005f010000a2"
#define LITIME_02 "000065019355aa008b370000343600008f0d940d880d890d00000000000000000000000000000000" \
	"0000000000000000000000001a001a000000000000004a274a270000480000000400000000000000" \
	"0000000000000000000064006400000001000000bf00000076"
#define LITIME_03 "000065019355aa007c3300000c340000030d030d030d030d00000000000000000000000000000000" \
	"00000000000000000000000017001800000000000000102710270000000000000000000000000000" \
	"0000000000000000000063006400000000000000000000008b"

#define LT_REQ_LEN_TEST 8

static const size_t notif20[] = { 20 }; /* ATT MTU 23 */
static const size_t chunks_odd[] = { 1, 2, 7, 13, 1, 26, 3, 11, 40 };

static size_t hexb(const char *hex, uint8_t *out)
{
	return (size_t)drive_hex(hex, out, 256);
}

static void fix_sum(uint8_t *f, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i + 1 < n; i++)
		s += f[i];
	f[n - 1] = (uint8_t)s;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A whole poll of one answer: the status request, then ans in chunks. */
static int poll_one(struct bms_poll *poll, const uint8_t *ans, size_t n, const size_t *ch, size_t nch,
		    uint8_t forced, bool inv)
{
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	drive_begin_link(poll, &rx, 0, forced, inv, BMS_LINK_BLE, true);
	struct drive_answer a[1] = { { ans, n, ch, nch, 0, LT_REQ_LEN_TEST } };
	return drive_poll(poll, &rx, a, 1, &r);
}

static void check_01(const struct bms_snapshot *s, bool inv) /* Redodo 24 V 8S, discharging */
{
	static const uint16_t c[8] = { 3317, 3319, 3324, 3323, 3320, 3314, 3322, 3317 };
	drive_check_cells(s, c, 8);
	CHECK_NEAR(s->voltage, 26.556, 1e-4); /* u32 @12, the sum of the cells (@8: 26.182) */
	CHECK_NEAR(s->current, inv ? 1.435 : -1.435, 1e-4);
	CHECK_NEAR(s->soc, 65.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 68.89, 1e-4);
	CHECK_NEAR(s->full_ah, 105.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 3);
	CHECK_EQ_INT(s->ntemps, 1); /* -2 degC at 56 is not served */
	CHECK_NEAR(s->temp_c[0], 23.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 22.0, 1e-6);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
				 BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
				 BMS_HAS_ALARMS);
}

static void check_02(const struct bms_snapshot *s) /* Power Queen 12 V 4S, full */
{
	static const uint16_t c[4] = { 3471, 3476, 3464, 3465 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.876, 1e-4); /* @8 reads 14.219 V: not the battery's */
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 100.58, 1e-4);
	CHECK_NEAR(s->full_ah, 100.58, 1e-4);
	CHECK_EQ_INT(s->cycles, 1);
	CHECK_NEAR(s->temp_c[0], 26.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 26.0, 1e-6);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(!(s->present & (BMS_HAS_MOSFETS | BMS_HAS_BALANCE))); /* not transmitted */
}

static void check_03(const struct bms_snapshot *s) /* Redodo 12 V 100 Ah, idle */
{
	static const uint16_t c[4] = { 3331, 3331, 3331, 3331 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.324, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 99.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 100.0, 1e-4);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK_NEAR(s->temp_c[0], 23.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 24.0, 1e-6);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "litime");
	CHECK_EQ_INT(drv->protocol_id, 23);
	CHECK(bms_find("litime") == drv);
	CHECK(bms_ble_only(drv));
	CHECK(!drv->listen_only && !drv->listens);
	CHECK_EQ_INT(drv->ble->company, 0);
	CHECK_STR(drv->ble->gatt[0].service, "0000ffe0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000ffe1-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000ffe2-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[0].write_service == NULL);
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK_EQ_INT(drv->max_address, 0);
	CHECK(!drv->control && !drv->probe);
	CHECK(!(drv->provides & (BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_SETPOINT)));
}

/* The one request; our own echoed is no frame. */
static void test_request(void)
{
	struct bms_poll poll = { 0 };
	uint8_t req[16], want[16];
	size_t n = 0;
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, 7), BMS_E_NOSPACE);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 8);
	CHECK_EQ_INT(check_hex(LITIME_REQ_13, want, 16), 8);
	CHECK(memcmp(req, want, 8) == 0);
	for (size_t k = 0; k < 8; k++)
		CHECK_EQ_INT(drv->scan(&poll, req, k, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, req, 8, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 8);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID); /* nothing answered */
}

/* The three captures, whole polls, in 20-byte notifications, one byte at a
 * time, odd chunks and one read; invert_current. */
static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	uint8_t f1[256], f2[256], f3[256];
	size_t n1 = hexb(LITIME_01, f1), n2 = hexb(LITIME_02, f2), n3 = hexb(LITIME_03, f3);
	CHECK_EQ_INT(n1, 105);
	CHECK_EQ_INT(n2, 105);
	CHECK_EQ_INT(n3, 105);
	const size_t *chs[] = { notif20, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 4; k++) {
		CHECK_EQ_INT(poll_one(&poll, f1, n1, chs[k], nchs[k], 0, false), BMS_OK);
		check_01(&poll.snap, false);
		CHECK_EQ_INT(poll_one(&poll, f2, n2, chs[k], nchs[k], 0, false), BMS_OK);
		check_02(&poll.snap);
		CHECK_EQ_INT(poll_one(&poll, f3, n3, chs[k], nchs[k], 0, false), BMS_OK);
		check_03(&poll.snap);
	}
	CHECK_EQ_INT(poll_one(&poll, f1, n1, notif20, 1, 0, true), BMS_OK);
	check_01(&poll.snap, true);
	/* derived: power = V x I */
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(poll.snap.power, 26.556 * 1.435, 1e-3);
}

/* Split at every boundary, with junk, our echo and another command's
 * answer before it. */
static void test_every_split(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[256], buf[512];
	size_t n = hexb(LITIME_01, f);
	for (size_t k = 1; k < n; k++) {
		const size_t two[] = { k, n - k };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = FEED_BYTES(&poll, &rx, f, n, two);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.unexpected + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(rx.len, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
	check_01(&poll.snap, false);

	/* junk (zeros, a false start 00 00 65 00), the echoed request, the
	 * answer to a version request (0x96, 12 bytes), then the status */
	static const uint8_t junk[] = { 0x41, 0x54, 0x0d, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x65, 0x00, 0xff };
	uint8_t other[12] = { 0x00, 0x00, 0x08, 0x01, 0x96, 0x55, 0xAA, 0x00, 0x01, 0x02, 0x03, 0 };
	fix_sum(other, sizeof(other));
	size_t len = 0;
	memcpy(buf + len, junk, sizeof(junk));
	len += sizeof(junk);
	len += (size_t)check_hex(LITIME_REQ_13, buf + len, 16);
	memcpy(buf + len, other, sizeof(other));
	len += sizeof(other);
	memcpy(buf + len, f, n);
	len += n;
	const size_t *chs[] = { notif20, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 4; k++) {
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, chs[k], nchs[k]);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.unexpected, 1); /* the 0x96 answer */
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_01(&poll.snap, false);
	}
}

/* Feed bytes to a fresh poll; the results. */
static struct drive_res feed(struct bms_poll *poll, const uint8_t *p, size_t n)
{
	struct bms_rx rx = { 0 };
	drive_begin_link(poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	return FEED_BYTES(poll, &rx, p, n, chunks_odd);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	uint8_t f[256], g[256], two[512];
	size_t n = hexb(LITIME_02, f);
	struct drive_res r;

	/* a bad checksum: counted, no frame; the good one after it is found */
	memcpy(g, f, n);
	g[n - 1] ^= 0x01;
	r = feed(&poll, g, n);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	memcpy(two, g, n);
	memcpy(two + n, f, n);
	r = feed(&poll, two, 2 * n);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 1);
	check_02(&poll.snap);
	/* a value byte flipped: the sum fails */
	memcpy(g, f, n);
	g[20] ^= 0x10;
	r = feed(&poll, g, n);
	CHECK_EQ_INT(r.ok + r.err, 0);
	CHECK_EQ_INT(r.badsum, 1);
	/* truncated: no frame, nothing taken */
	for (size_t k = 0; k < n; k += 13) {
		r = feed(&poll, f, k);
		CHECK_EQ_INT(r.frames + r.badsum, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* a truncated answer, then a whole one: the partial one fails its sum */
	memcpy(two, f, 60);
	memcpy(two + 60, f, n);
	r = feed(&poll, two, 60 + n);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_02(&poll.snap);
	/* a wrong length field (0x64), the sum made right: not a status */
	memcpy(g, f, n);
	g[2] = 0x64;
	fix_sum(g, 0x64 + 4);
	r = feed(&poll, g, 0x64 + 4);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
	/* a length field below the shortest frame: no frame at all */
	memcpy(g, f, n);
	g[2] = 0x03;
	r = feed(&poll, g, n);
	CHECK_EQ_INT(r.frames, 0);
}

/* A wrong marker, values out of range or absent, a poll already done. */
static void test_broken_values(void)
{
	struct bms_poll poll = { 0 };
	uint8_t f[256], g[256];
	size_t n = hexb(LITIME_02, f);
	struct drive_res r;

	/* a wrong marker (55 AB): skipped */
	memcpy(g, f, n);
	g[6] = 0xAB;
	fix_sum(g, n);
	r = feed(&poll, g, n);
	CHECK_EQ_INT(r.frames, 0);
	/* SOC 101 %: out of range */
	memcpy(g, f, n);
	g[90] = 101;
	fix_sum(g, n);
	r = feed(&poll, g, n);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* 4,000 A: out of range */
	memcpy(g, f, n);
	put32(g + 48, 4000000u);
	fix_sum(g, n);
	r = feed(&poll, g, n);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* no cells, 0 V: not a sample */
	memcpy(g, f, n);
	memset(g + 12, 0, 36);
	fix_sum(g, n);
	r = feed(&poll, g, n);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* an SOH of 255: absent; a temperature no sensor gives (0x7FFF): kept
	 * as read, for the gateway's gate to serve absent with a sensor fault */
	memcpy(g, f, n);
	g[52] = 0xFF;
	g[53] = 0x7F;
	g[92] = 0xFF;
	fix_sum(g, n);
	r = feed(&poll, g, n);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_SOH));
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 32767.0, 1e-6);
	CHECK_EQ_INT(bms_sensor_faults(&poll.snap, NULL), 1u << 0);
	CHECK(isnan(poll.snap.temp_c[0]));
	CHECK(poll.snap.present & BMS_HAS_MOS_TEMP);
	CHECK(bms_plausible(&poll.snap, NULL));
	/* after the poll is complete, another status answer is not taken */
	r = feed(&poll, f, n);
	CHECK_EQ_INT(r.ok, 1);
	r = FEED_BYTES(&poll, &(struct bms_rx){ 0 }, f, n, chunks_big);
	CHECK_EQ_INT(r.unexpected, 1);
}

/* The protection and failure words. */
static void test_alarms(void)
{
	static const struct {
		uint32_t protect, failure, al;
	} t[] = {
		{ 0x0004, 0, BMS_AL_CELL_OV | BMS_AL_PROTECTION },
		{ 0x0020, 0, BMS_AL_CELL_UV | BMS_AL_PROTECTION },
		{ 0x0040, 0, BMS_AL_CHG_OC | BMS_AL_PROTECTION },
		{ 0x0080, 0, BMS_AL_DSG_OC | BMS_AL_PROTECTION },
		{ 0x0100, 0, BMS_AL_CHG_OT | BMS_AL_DSG_OT | BMS_AL_PROTECTION },
		{ 0x0800, 0, BMS_AL_CHG_UT | BMS_AL_DSG_UT | BMS_AL_PROTECTION },
		{ 0x4000, 0, BMS_AL_SHORT | BMS_AL_PROTECTION },
		{ 0x0001, 0, BMS_AL_OTHER },
		{ 0x10000, 0, BMS_AL_OTHER },
		{ 0, 0x20, BMS_AL_OTHER },
	};
	struct bms_poll poll = { 0 };
	uint8_t g[256];
	size_t n = hexb(LITIME_03, g);
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		put32(g + 76, t[k].protect);
		put32(g + 80, t[k].failure);
		fix_sum(g, n);
		CHECK_EQ_INT(poll_one(&poll, g, n, notif20, 1, 0, false), BMS_OK);
		CHECK_EQ_INT(poll.snap.alarms, t[k].al);
		CHECK_EQ_INT(poll.snap.raw_alarms[0], t[k].protect & 0xFFFF);
		CHECK_EQ_INT(poll.snap.raw_alarms[1], t[k].protect >> 16);
		CHECK_EQ_INT(poll.snap.raw_alarms[2], t[k].failure & 0xFFFF);
	}
}

/* A configured cell count: the first slots. */
static void test_forced(void)
{
	struct bms_poll poll = { 0 };
	uint8_t f[256];
	size_t n = hexb(LITIME_01, f);
	CHECK_EQ_INT(poll_one(&poll, f, n, notif20, 1, 4, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 3323);
	CHECK_EQ_INT(poll.snap.cell_mv[4], 0);
	CHECK_EQ_INT(poll_one(&poll, f, n, notif20, 1, 40, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	/* a cell missing in the middle stays a 0 mV cell */
	f[16 + 2 * 3] = 0;
	f[17 + 2 * 3] = 0;
	fix_sum(f, n);
	CHECK_EQ_INT(poll_one(&poll, f, n, notif20, 1, 0, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 8);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 0);
}

/* --ble-scan's hints: LiTime's names, not E&J's nor other brands'. */
static void test_hints(void)
{
	const struct bms_ble_hint *name = &drv->ble->hints[0], *company = &drv->ble->hints[1];
	CHECK(name->kind == BMS_BLE_NAME && name->name_ok);
	CHECK(company->kind == BMS_BLE_COMPANY && company->value == 0x585A && company->rank > name->rank);
	CHECK(drv->ble->hints[2].why == NULL);
	static const char *const yes[] = {
		"L-12100BNNA70-A09683", "R-24100BNN160-A00643", "P-24050BNNA70-A01152", "PQ-24100B-A00292",
		"RO-24100B-A00162", "LT-51230BGC-A00229", "LT-12100BG-A07700", "L-51030GBNGC2-A00263",
		"LT-24100B-A00473", "LT-24100B-A01234", "LT-24100B-A12345", "S-12100BNNA70-A00101",
		"SS-12100BGH-A00102", "LT-12100BG-A09000",
	};
	static const char *const no[] = {
		"LT-12100BG-A06359", "LT-24100B-A00249", "LT-12V-1544", "L-12V100AH-0902", "V-12V200Ah-0215",
		"JK-B2A24S15P", "xiaoxiang BMS", "SP05B2312190075", "S-", "L-1", "R-9999", "LT-", "P-36100",
		"TP_123456", "G-12V300Ah-0345", "",
	};
	for (size_t k = 0; k < sizeof(yes) / sizeof(yes[0]); k++)
		if (!name->name_ok(yes[k]))
			CHECK(!yes[k]);
	for (size_t k = 0; k < sizeof(no) / sizeof(no[0]); k++)
		if (name->name_ok(no[k]))
			CHECK(!no[k]);
}

int main(void)
{
	test_table();
	test_request();
	test_captures();
	test_every_split();
	test_broken();
	test_broken_values();
	test_alarms();
	test_forced();
	test_hints();
	return check_report();
}
