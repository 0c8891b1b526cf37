/* SPDX-License-Identifier: MIT */
/* tests/unit/test_chins.c - the E&J BMS over Bluetooth LE (Chins, Lithtech,
 * Supervolt; bms/chins.c): the ej rows of tests/fixtures/vectors.tsv (the
 * RT and CAP answers of a 10S E&J BMS) through scan() + handle() in whole
 * polls as the gateway runs them, in every chunking, with the BLE module's
 * "AT\r\n" before, between and inside the frames, and broken: a bad
 * checksum, a wrong length field, truncated, a non-hex character, another
 * command's answer, SOC out of range; the single-frame variant (a 140-
 * character RT answer built here: no capture is shared) with its
 * capacities and no CAP.  Protocol facts: bms/PROTOCOLS.md §37. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_chins_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family ej */
#define EJ_REQ_RT ":000250000E03~"
#define EJ_REQ_CAP ":001031000E05~"
#define EJ_01 ":0082310080000101C00000880F540F3C0F510FD70F310F2C0F340F3A0FED0FED000000000000000000" \
	"0000000000000248424242F0000000000000000001AB~"
#define EJ_02 ":009031001E00000002000A000AD8~"
/* AG Automotive "AG Power Lithium" (4 cells; version byte 0x50) */
#define EJ_03 ":0082500080000101C00000880CE00CE10CDF0CE10000000000000000000000000000000000000000000000" \
	"000000014E2E2A2A2AF002000000003F003F3C02~"
#define EJ_04 ":009031001E0000024E03E803E8A1~"

static const size_t notif20[] = { 20 };
static const size_t chunks_odd[] = { 1, 2, 7, 13, 1, 26, 3, 11, 40 };

/* ':' + body (addr..data, the length field "LLLL" filled in) + checksum +
 * '~' into out; its length. */
static size_t build(char *out, size_t cap, const char *body)
{
	size_t n = strlen(body), total = n + 4;
	unsigned sum = 0;
	snprintf(out, cap, ":%s", body);
	char len[8];
	snprintf(len, sizeof(len), "%04X", (unsigned)(total & 0xFFFF));
	memcpy(out + 7, len, 4);
	for (size_t i = 1; i <= n; i++)
		sum += (unsigned char)out[i];
	snprintf(out + 1 + n, cap - 1 - n, "%02X~", (sum & 0xFF) ^ 0xFF);
	return total;
}

/* A single-frame RT answer (140 characters): 4 cells 3263 / 3264 / 3306 /
 * 3285 mV, charging 1.40 A, 25 degC, both MOSFETs on and charging, 1
 * cycle, SOC 75 %, 110.0 of 150.0 Ah (design 150.0 Ah). */
static size_t build_sf(char *out, size_t cap)
{
	return build(out, cap,
		     "008231LLLL00000000000000" "0CBF0CC00CEA0CD5" "000000000000000000000000000000000000000000000000"
		     "008C0000" "41282828" "F001" "00" "0000" "0001" "0000" "4B" "044C05DC05DC");
}

static void check_01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[10] = { 3924, 3900, 3921, 4055, 3889, 3884, 3892, 3898, 4077, 4077 };
	drive_check_cells(s, c, 10);
	CHECK_NEAR(s->voltage, 39.517, 1e-4); /* the sum of the cells */
	CHECK_NEAR(s->current, inv ? 0.02 : -0.02, 1e-5);
	CHECK_NEAR(s->soc, 1.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 32.0, 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->raw_alarms[0], 0xF000);
	CHECK_EQ_INT(s->state, 0);
}

static void check_02(const struct bms_snapshot *s)
{
	CHECK_NEAR(s->remain_ah, 0.2, 1e-5);
	CHECK_NEAR(s->full_ah, 1.0, 1e-5);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
				 BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE |
				 BMS_HAS_ALARMS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "chins");
	CHECK_EQ_INT(drv->protocol_id, 30);
	CHECK(bms_find("chins") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && !drv->listens);
	CHECK_STR(drv->ble->gatt[0].service, "6e400001-b5a3-f393-e0a9-e50e24dcca9e");
	CHECK_STR(drv->ble->gatt[0].notify, "6e400003-b5a3-f393-e0a9-e50e24dcca9e");
	CHECK_STR(drv->ble->gatt[0].write, "6e400002-b5a3-f393-e0a9-e50e24dcca9e");
	CHECK(drv->ble->gatt[1].service != NULL && drv->ble->gatt[2].service == NULL); /* AG's: test_ag() */
	CHECK(!drv->control && !drv->probe);
	CHECK(!(drv->provides & (BMS_HAS_SOH | BMS_HAS_MOS_TEMP)));
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	uint8_t req[32];
	size_t n = 0;
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, 13), BMS_E_NOSPACE);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 14);
	CHECK(memcmp(req, EJ_REQ_RT, 14) == 0);
	for (size_t k = 0; k < 14; k++)
		CHECK_EQ_INT(drv->scan(&poll, req, k, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, req, 14, &n), BMS_SCAN_SKIP); /* our echo */
	CHECK_EQ_INT(n, 14);
	poll.step = 1;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 14);
	CHECK(memcmp(req, EJ_REQ_CAP, 14) == 0);
	CHECK_EQ_INT(drv->scan(&poll, req, 14, &n), BMS_SCAN_SKIP);
	poll.step = 2;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
}

/* RT then CAP, as a poll, in 20-byte notifications (the module's), one
 * byte at a time, odd chunks, one read. */
static void test_polls(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	const size_t *chs[] = { notif20, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	CHECK_EQ_INT(strlen(EJ_01), 128);
	CHECK_EQ_INT(strlen(EJ_02), 30);
	for (int k = 0; k < 4; k++)
		for (int inv = 0; inv < 2; inv++) {
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			struct drive_answer a[2] = {
				{ (const uint8_t *)EJ_01, 128, chs[k], nchs[k], 0, 14 },
				{ (const uint8_t *)EJ_02, 30, chs[k], nchs[k], 0, 14 },
			};
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 2, &r), BMS_OK);
			check_01(&poll.snap, inv);
			check_02(&poll.snap);
		}
	CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(poll.snap.power, 39.517 * 0.02, 1e-4);
}

/* AG Automotive's AG Power Lithium (aiobmsble's ag_bms test): the same
 * frames, on its own service, named AG???L*: 4 cells, discharging 3.34 A,
 * 6 degC, 63 cycles, SOC 60 %, 59.0 of 100.0 Ah. */
static void test_ag(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	static const uint16_t c[4] = { 3296, 3297, 3295, 3297 };
	CHECK_STR(drv->ble->gatt[1].service, "00008000-0000-1000-8000-57616c6b697a");
	CHECK_STR(drv->ble->gatt[1].notify, "00008002-0000-1000-8000-57616c6b697a");
	CHECK_STR(drv->ble->gatt[1].write, "00008001-0000-1000-8000-57616c6b697a");
	CHECK(drive_hinted("AG100L21021805"));
	CHECK(!drive_hinted("AG100X21021805") && !drive_hinted("AG10L"));
	CHECK_EQ_INT(strlen(EJ_03), 128);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_answer a[2] = {
		{ (const uint8_t *)EJ_03, 128, notif20, 1, 0, 14 },
		{ (const uint8_t *)EJ_04, 30, notif20, 1, 0, 14 },
	};
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 2, &r), BMS_OK);
	CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
	drive_check_cells(&poll.snap, c, 4);
	CHECK_NEAR(poll.snap.voltage, 13.185, 1e-4);
	CHECK_NEAR(poll.snap.current, -3.34, 1e-5);
	CHECK_NEAR(poll.snap.soc, 60.0, 1e-6);
	CHECK_EQ_INT(poll.snap.cycles, 63);
	CHECK_NEAR(poll.snap.temp_c[0], 6.0, 1e-6);
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.alarms, 0);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0xF002);
	CHECK_EQ_INT(poll.snap.state, 2);
	CHECK_NEAR(poll.snap.remain_ah, 59.0, 1e-4);
	CHECK_NEAR(poll.snap.full_ah, 100.0, 1e-4);
}

/* "AT\r\n" from the module before, between and inside frames (any
 * notification of it), with "AT\r\nillegal" junk as aiobmsble's test
 * sends; every split into two reads. */
static void test_at_noise(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char buf[512];
	const char *f = EJ_01;
	/* AT before, "AT\r\nillegal", then the frame in 20-byte notifications
	 * with an AT between each */
	size_t len = (size_t)snprintf(buf, sizeof(buf), "AT\r\nAT\r\nillegal");
	for (size_t off = 0; off < 128; off += 20) {
		size_t k = 128 - off < 20 ? 128 - off : 20;
		memcpy(buf + len, f + off, k);
		len += k;
		memcpy(buf + len, "AT\r\n", 4);
		len += 4;
	}
	const size_t *chs[] = { notif20, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 4; k++) {
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_feed_bytes(&poll, &rx, (const uint8_t *)buf, len, chs[k], nchs[k]);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan + r.unexpected, 0);
		CHECK_EQ_INT(poll.step, 1);
		check_01(&poll.snap, false);
	}
	for (size_t k = 1; k < len; k++) {
		const size_t two[] = { k, len - k };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_feed_bytes(&poll, &rx, (const uint8_t *)buf, len, two, 2);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
	}
	/* an 'A' that is a digit, right before "AT\r\n": ...0FED0FEDAT\r\n... */
	char g[256];
	int at = 12 * 2 + 1 + 2; /* inside cell 1 "0F54": after "0F5" comes "4" */
	memcpy(g, f, (size_t)at);
	memcpy(g + at, "AT\r\n", 4);
	memcpy(g + at + 4, f + at, 128 - (size_t)at);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = drive_feed_bytes(&poll, &rx, (const uint8_t *)g, 132, chunks_odd, DRIVE_NCH(chunks_odd));
	CHECK_EQ_INT(r.ok, 1);
	check_01(&poll.snap, false);
}

static void test_single_frame(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	char sf[256];
	size_t n = build_sf(sf, sizeof(sf));
	CHECK_EQ_INT(n, 140);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_answer a[1] = { { (const uint8_t *)sf, n, notif20, 1, 0, 14 } };
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK); /* no CAP asked */
	const struct bms_snapshot *s = &poll.snap;
	static const uint16_t c[4] = { 3263, 3264, 3306, 3285 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.118, 1e-4);
	CHECK_NEAR(s->current, 1.4, 1e-5);
	CHECK_NEAR(s->soc, 75.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 1);
	CHECK_NEAR(s->temp_c[0], 25.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 110.0, 1e-4);
	CHECK_NEAR(s->full_ah, 150.0, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->state, 1);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	char g[512];

	/* a checksum digit changed: counted, not taken; then the good one */
	snprintf(g, sizeof(g), "%s", EJ_01);
	g[126] = 'C';
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_TEXT(&poll, &rx, g, notif20);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.badsum, 1);
	snprintf(g + 128, sizeof(g) - 128, "%s", EJ_01);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_TEXT(&poll, &rx, g, notif20);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 1);
	/* a data digit changed: the sum fails */
	snprintf(g, sizeof(g), "%s", EJ_01);
	g[40] = g[40] == '1' ? '2' : '1';
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_TEXT(&poll, &rx, g, notif20);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.frames, 0);
	/* the firmware that sends "00" for its checksum (libatt*): refused */
	snprintf(g, sizeof(g), "%s", EJ_02);
	g[26] = '0';
	g[27] = '0';
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.step = 1;
	r = FEED_TEXT(&poll, &rx, g, notif20);
	CHECK_EQ_INT(r.badsum, 1);
	/* a wrong length field (0x7E, 0x82) with its sum made right: the '~'
	 * is not where it says; too short a field (0x0C): no frame */
	static const char *const lens[] = { "007E", "0082" };
	for (int k = 0; k < 2; k++) {
		char body[256];
		snprintf(body, sizeof(body), "%.*s", 124, EJ_01 + 1);
		memcpy(body + 6, lens[k], 4);
		unsigned sum = 0;
		for (int i = 0; i < 124; i++)
			sum += (unsigned char)body[i];
		snprintf(g, sizeof(g), ":%s%02X~", body, (sum & 0xFF) ^ 0xFF);
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.frames, 0);
		CHECK_EQ_INT(r.badsum, 1);
	}
	snprintf(g, sizeof(g), "%s", EJ_01);
	memcpy(g + 7, "000C", 4);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.frames, 0);
}

/* Truncated, cut short, not hex, another answer, values out of range. */
static void test_broken_more(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	char g[512];

	/* truncated: nothing, the poll not complete */
	for (size_t k = 0; k < 128; k += 9) {
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		r = drive_feed_bytes(&poll, &rx, (const uint8_t *)EJ_01, k, chunks_odd, DRIVE_NCH(chunks_odd));
		CHECK_EQ_INT(r.frames + r.badsum, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* cut short by the next frame's ':' (a lost notification) */
	snprintf(g, sizeof(g), "%.60s%s", EJ_01, EJ_01);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_TEXT(&poll, &rx, g, notif20);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 0);
	/* a character that is no hex digit */
	snprintf(g, sizeof(g), "%s", EJ_01);
	g[50] = 'x';
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_TEXT(&poll, &rx, g, notif20);
	CHECK_EQ_INT(r.frames, 0);
	/* the CAP answer while RT is outstanding, and RT after the poll moved on */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_TEXT(&poll, &rx, EJ_02 EJ_01, notif20);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 1);
	r = FEED_TEXT(&poll, &rx, EJ_01 EJ_02, notif20);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* SOC 101 %: out of range */
	char sf[256];
	size_t n = build(sf, sizeof(sf),
			 "008231LLLL00000000000000" "0CBF0CC00CEA0CD5" "000000000000000000000000000000000000000000000000"
			 "008C0000" "41282828" "F001" "00" "0000" "0001" "0000" "65" "044C05DC05DC");
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, (const uint8_t *)sf, n, notif20, 1);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* an RT answer of an unknown length (2 more bytes) */
	n = build(sf, sizeof(sf), "008231LLLL" "000101C00000880F540F3C0F510FD70F310F2C0F340F3A0FED0FED000000000000000000"
				  "0000000000000248424242F0000000000000000001" "0000");
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, (const uint8_t *)sf, n, notif20, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
	/* no cells: 0 V, not a sample */
	n = build(sf, sizeof(sf), "008231LLLL" "000101C0000088" "0000000000000000000000000000000000000000"
				  "000000000000000000000000" "00000002" "48424242F0000000000000000001");
	CHECK_EQ_INT(n, 128);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, (const uint8_t *)sf, n, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	poll.step = 2;
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* The working state's protection bits, and the state. */
static void test_alarms(void)
{
	static const struct {
		const char *st;
		uint32_t al;
		uint8_t state;
	} t[] = {
		{ "F004", BMS_AL_CELL_OV | BMS_AL_PROTECTION, 0 }, { "F008", BMS_AL_CELL_UV | BMS_AL_PROTECTION, 0 },
		{ "F010", BMS_AL_CHG_OC | BMS_AL_PROTECTION, 0 }, { "F020", BMS_AL_SHORT | BMS_AL_PROTECTION, 0 },
		{ "F0C0", BMS_AL_DSG_OC | BMS_AL_PROTECTION, 0 }, { "F100", BMS_AL_CHG_OT | BMS_AL_PROTECTION, 0 },
		{ "F200", BMS_AL_CHG_UT | BMS_AL_PROTECTION, 0 }, { "F400", BMS_AL_DSG_OT | BMS_AL_PROTECTION, 0 },
		{ "F802", BMS_AL_DSG_UT | BMS_AL_PROTECTION, 2 }, { "E002", 0, 2 }, { "1001", 0, 1 },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char sf[256], body[200];
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		snprintf(body, sizeof(body), "%s%s%s",
			 "008231LLLL00000000000000" "0CBF0CC00CEA0CD5" "000000000000000000000000000000000000000000000000"
			 "008C0000" "41282828", t[k].st, "00" "0000" "0001" "0000" "4B" "044C05DC05DC");
		size_t n = build(sf, sizeof(sf), body);
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_feed_bytes(&poll, &rx, (const uint8_t *)sf, n, notif20, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.alarms, t[k].al);
		CHECK_EQ_INT(poll.snap.state, t[k].state);
		CHECK_EQ_INT(poll.snap.chg_mos, (t[k].st[0] == 'F' || t[k].st[0] == 'E') ? 1 : 0);
		CHECK_EQ_INT(poll.snap.dsg_mos, t[k].st[0] != 'E' && t[k].st[0] != 'C' ? 1 : 0);
	}
}

/* --ble-scan's hints: E&J's names, not LiTime's nor other brands', nor
 * Chins' G- names (chins-nus's, test_chins_nus.c). */
static void test_hints(void)
{
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_NAME && h[0].name_ok);
	CHECK_STR(h[1].prefix, "LT-12V-");
	CHECK_STR(h[2].prefix, "SV12V");
	CHECK(h[3].kind == BMS_BLE_NAME && h[3].name_ok);
	CHECK(h[4].why == NULL);
	static const char *const yes[] = { "L-12V100AH-0902", "V-12V200Ah-0215", "LT-12100BG-A06359",
					   "LT-24100B-A00249" };
	static const char *const no[] = { "L-12100BNNA70-A09683", "LT-12100BG-A07700", "LT-24100B-A00473", "G-12V",
					  "G-V100Ah-1", "G-12V300Ah-", "G-12V300Ah-0345", "G-24V100AH-1", "JK-B2A24S15P",
					  "libattU12E9", "TP_1", "" };
	for (size_t k = 0; k < sizeof(yes) / sizeof(yes[0]); k++)
		if (!h[0].name_ok(yes[k]))
			CHECK(!yes[k]);
	for (size_t k = 0; k < sizeof(no) / sizeof(no[0]); k++)
		if (h[0].name_ok(no[k]))
			CHECK(!no[k]);
}

int main(void)
{
	test_table();
	test_requests();
	test_polls();
	test_ag();
	test_at_noise();
	test_single_frame();
	test_broken();
	test_broken_more();
	test_alarms();
	test_hints();
	return check_report();
}
