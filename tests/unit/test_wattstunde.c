/* SPDX-License-Identifier: MIT */
/* tests/unit/test_wattstunde.c - Wattstunde Nova Core over Bluetooth LE
 * (bms/wattstunde.c): the wattstunde rows of tests/fixtures/vectors.tsv
 * (aiobmsble's frame of a 4S pack and the read) through scan() + handle()
 * in whole polls as the gateway runs them, in every chunking, with noise
 * and the read echoed before it; frames under another key; broken input
 * (a character that is no hex digit, an odd digit count, a frame too
 * short, another type, SOC, voltage and a current beyond the range both
 * readings agree on, truncated).  Protocol facts: bms/PROTOCOLS.md §61. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_wattstunde_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family wattstunde (the ASCII as hex) */
#define WATTSTUNDE_REQ "3a3031353135303030304546457e"
#define WATTSTUNDE_01 \
	"3a32313734323132304343323032313232343933383830433132433935324339353243393932433934323032303230323032" \
	"3032303230323032303230323032303230323032303230323032303230323032303230323032304430323232303230313131" \
	"3131313131333045384130323032354430354644464446444631324637323032353234323032353134323032333244363032" \
	"3032313931323132303233324436303230323132354430323232363737373336453135313531303130313731323134313231" \
	"313131313031393133323032303230323032303230323032303243333432333237333841417e"

/* The frame's text, and one made from it: its decoded byte i set to v
 * (under the frame's key 0x20, or re-keyed with key k when k >= 0). */
static char text[600];

static void load(void)
{
	int n = drive_hex(WATTSTUNDE_01, (uint8_t *)text, (int)sizeof(text) - 1);
	text[n] = '\0';
}

static const char *edited(int i, uint8_t v, int k)
{
	static char t[600];
	uint8_t raw[128];
	size_t n = (strlen(text) - 2) / 2;
	for (size_t j = 0; j < n; j++) {
		unsigned b;
		sscanf(text + 1 + 2 * j, "%2x", &b);
		raw[j] = (uint8_t)b;
	}
	if (i >= 0)
		raw[i] = (uint8_t)(v ^ 0x20);
	if (k >= 0)
		for (size_t j = 0; j + 1 < n; j++)
			raw[j] = (uint8_t)(raw[j] ^ 0x20 ^ k);
	t[0] = ':';
	for (size_t j = 0; j < n; j++)
		snprintf(t + 1 + 2 * j, 3, "%02X", raw[j]);
	t[1 + 2 * n] = '~';
	t[2 + 2 * n] = '\0';
	return t;
}

static int handle_text(const char *t, int step)
{
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = step;
	return drv->handle(&poll, (const uint8_t *)t, strlen(t));
}

static void check_01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[4] = { 3253, 3253, 3257, 3252 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.015, 1e-4);
	CHECK_NEAR(s->current, inv ? 1.52 : -1.52, 1e-5);
	CHECK_NEAR(s->soc, 52.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 5);
	CHECK_NEAR(s->full_ah, 200.0, 1e-4);
	CHECK_NEAR(s->remain_ah, 110.849, 1e-4);
	CHECK_EQ_INT(s->ntemps, 4);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(s->temp_c[i], 9.0, 1e-6);
	CHECK_EQ_INT(s->raw_alarms[0], 0xF002);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES | BMS_HAS_FULL |
					 BMS_HAS_REMAIN | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "wattstunde");
	CHECK_EQ_INT(drv->protocol_id, 52);
	CHECK(bms_find("wattstunde") == drv);
	drive_check_ble16("fff0", "fff1", "fff1");
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_COMPANY_SERVICE && h[0].value == 0xFFF06E60u); /* 60:6E:41 */
	CHECK(h[1].kind == BMS_BLE_COMPANY_SERVICE && h[1].value == 0xFFF02310u); /* 10:23:81 */
	CHECK(h[0].rank < 6 && h[2].why == NULL); /* before Daly's FFF0 */
}

/* The read, then the answer, in every chunking, inverted too; the read
 * echoed and noise before it. */
static void test_polls(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			CHECK(drive_req_is(&poll, WATTSTUNDE_REQ));
			const char *a[] = { "00" "7e" WATTSTUNDE_REQ WATTSTUNDE_01 };
			CHECK_EQ_INT(drive_poll_hex(&poll, &rx, a, 1, &drive_chunkings[k], 14), BMS_OK);
			check_01(&poll.snap, inv);
		}
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	drive_request_ends(&poll, 13, 1);
}

/* Another key: the same values. */
static void test_keys(void)
{
	static const int keys[] = { 0x00, 0x5A, 0xFF };
	for (size_t i = 0; i < DRIVE_NCH(keys); i++) {
		struct bms_poll poll;
		const char *t = edited(-1, 0, keys[i]);
		bms_poll_begin(&poll, 0, 0, false);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)t, strlen(t)), BMS_OK);
		check_01(&poll.snap, false);
	}
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	char t[600];
	/* a character that is no hex digit: dropped up to it, the rest skipped */
	snprintf(t, sizeof(t), "%s", text);
	t[40] = 'G';
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = FEED_TEXT(&poll, &rx, t, chunks_big);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.skipped, strlen(t));
	/* an odd count of digits, a frame too short: bad frames, dropped whole */
	snprintf(t, sizeof(t), "%.100s%s", text, text + 101);
	r = FEED_TEXT(&poll, &rx, t, chunks_big);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.frames, 0);
	r = FEED_TEXT(&poll, &rx, ":0154010000~", drive_notif20);
	CHECK_EQ_INT(r.badsum, 1);
	/* truncated: no frame, the poll does not complete */
	bms_rx_clear(&rx);
	snprintf(t, sizeof(t), "%.200s", text);
	r = FEED_TEXT(&poll, &rx, t, chunks_one);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* values: another type, SOC 101, 0 V, a current beyond 32.767 A */
	CHECK_EQ_INT(handle_text(edited(1, 0x55, -1), 0), BMS_E_HEADER);
	CHECK_EQ_INT(handle_text(edited(69, 101, -1), 0), BMS_E_RANGE);
	snprintf(t, sizeof(t), "%s", edited(62, 0, -1));
	memcpy(t + 1 + 2 * 63, "20", 2); /* bytes 62, 63: 0 mV */
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_RANGE);
	CHECK_EQ_INT(handle_text(edited(56, 0x80, -1), 0), BMS_E_RANGE); /* bit 15 */
	CHECK_EQ_INT(handle_text(edited(55, 0x01, -1), 0), BMS_E_RANGE); /* bit 16 */
	CHECK_EQ_INT(handle_text(text, 1), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_text(":0154~", 0), BMS_E_SHORT);
	/* the status word's problem bits raise OTHER; bits 0, 1, 12..15 do not */
	bms_poll_begin(&poll, 0, 0, false);
	const char *e = edited(45, 0x06, -1); /* 0xF006 */
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)e, strlen(e)), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	/* forced cells */
	bms_poll_begin(&poll, 0, 3, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)text, strlen(text)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 0);
}

int main(void)
{
	load();
	test_table();
	test_polls();
	test_keys();
	test_broken();
	return check_report();
}
