/* SPDX-License-Identifier: MIT */
/* tests/unit/test_chins_nus.c - Chins "G-" batteries over Bluetooth LE
 * (bms/chins_nus.c, bms/base/ejframe.c): the chins-nus rows of
 * tests/fixtures/vectors.tsv (aiobmsble's single 140-character RT answer
 * of a 4S pack and the RT read) through scan() + handle() in whole polls as
 * the gateway runs them, in every chunking, with the module's AT and the
 * read echoed before it; the heater byte; a 128-character RT (no
 * capacities); broken copies made here (the check, the '~', the length,
 * truncated, another command, SOC 101); forced cells; its name hint
 * against chins's.  Protocol facts: bms/PROTOCOLS.md §83, §37. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_chins_nus_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family ej */
#define CHINSNUS_REQ_RT ":000250000E03~"
#define CHINSNUS_01 \
	":008231008C000000000000000CBF0CC00CEA0CD5000000000000000000000000000000000000000000000000008C0000412828" \
	"28F000000000000100004B044C05DC05DCB2~"

/* The answer with its decoded byte i set to v, the check made again. */
static const char *edited(int i, unsigned v)
{
	static char t[160];
	snprintf(t, sizeof(t), "%s", CHINSNUS_01);
	size_t n = strlen(t);
	if (i >= 0) {
		char h[3];
		snprintf(h, sizeof(h), "%02X", v & 0xFF);
		memcpy(t + 1 + 2 * i, h, 2);
	}
	unsigned s = 0;
	for (size_t k = 1; k < n - 3; k++)
		s += (uint8_t)t[k];
	char h[3];
	snprintf(h, sizeof(h), "%02X", (s & 0xFF) ^ 0xFF);
	memcpy(t + n - 3, h, 2);
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
	static const uint16_t c[4] = { 3263, 3264, 3306, 3285 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.118, 1e-4); /* the cells' sum */
	CHECK_NEAR(s->current, inv ? -1.4 : 1.4, 1e-5);
	CHECK_NEAR(s->soc, 75.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 1);
	CHECK_NEAR(s->remain_ah, 110.0, 1e-4);
	CHECK_NEAR(s->full_ah, 150.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 25.0, 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->raw_alarms[0], 0xF000);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(!s->heater_on && isnan(s->heater_a));
	CHECK(s->present & BMS_HAS_HEATER);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "chins-nus");
	CHECK_EQ_INT(drv->protocol_id, 73);
	CHECK(bms_find("chins-nus") == drv);
	drive_check_ble("6e400001-b5a3-f393-e0a9-e50e24dcca9e", "6e400003-b5a3-f393-e0a9-e50e24dcca9e",
			"6e400002-b5a3-f393-e0a9-e50e24dcca9e");
	CHECK(drv->ble->auth == NULL && drv->writer == NULL);
	CHECK(drv->provides & BMS_HAS_HEATER);
}

/* RT alone, answered by the 140 characters, in every chunking, inverted
 * too; the module's AT and the read echoed before it. */
static void test_polls(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			uint8_t b[256];
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			uint8_t want[16];
			int n = drv->next_request(&poll, want, sizeof(want));
			CHECK_EQ_INT(n, 14);
			CHECK(n == 14 && memcmp(want, CHINSNUS_REQ_RT, 14) == 0);
			size_t len = (size_t)snprintf((char *)b, sizeof(b), "AT\r\n%s%s", CHINSNUS_REQ_RT, CHINSNUS_01);
			struct drive_answer a[] = { { b, len, drive_chunkings[k].ch, drive_chunkings[k].n, 0, 14 } };
			struct drive_res r = { 0 };
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
			check_01(&poll.snap, inv);
		}
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	drive_request_ends(&poll, 13, 1);
}

/* Byte 54, the heater: not 0 is on, its current not sent. */
static void test_heater(void)
{
	struct bms_poll poll;
	static const unsigned v[] = { 0x00, 0x01, 0x80, 0xFF };
	for (size_t i = 0; i < DRIVE_NCH(v); i++) {
		const char *t = edited(54, v[i]);
		bms_poll_begin(&poll, 0, 0, false);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)t, strlen(t)), BMS_OK);
		CHECK_EQ_INT(poll.snap.heater_on, v[i] != 0);
		CHECK(isnan(poll.snap.heater_a));
	}
}

/* The 128-character RT (E&J's other variant): taken, without capacities;
 * a CAP answer is no answer of this poll. */
static void test_rt128(void)
{
	char t[160];
	/* 63 bytes: the header's length 0x80, the answer's bytes 0..61 and a check */
	snprintf(t, sizeof(t), ":0082310080%.114s", CHINSNUS_01 + 11);
	size_t n = strlen(t);
	unsigned s = 0;
	for (size_t k = 1; k < n; k++)
		s += (uint8_t)t[k];
	snprintf(t + n, sizeof(t) - n, "%02X~", (s & 0xFF) ^ 0xFF);
	CHECK_EQ_INT(strlen(t), 128);
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)t, strlen(t)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	CHECK_EQ_INT(poll.snap.present & (BMS_HAS_REMAIN | BMS_HAS_FULL), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(handle_text(":009031001E00000002000A000AD8~", 0), BMS_E_UNEXPECTED);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	char t[200];
	/* the check wrong: a bad frame, counted */
	snprintf(t, sizeof(t), "%s", CHINSNUS_01);
	t[strlen(t) - 2] ^= 0x01;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = FEED_TEXT(&poll, &rx, t, chunks_big);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_CHECKSUM);
	/* no '~', a character short, truncated */
	snprintf(t, sizeof(t), "%s", CHINSNUS_01);
	t[strlen(t) - 1] = '#';
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_CHECKSUM);
	snprintf(t, sizeof(t), "%.60s%s", CHINSNUS_01, CHINSNUS_01 + 62);
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_CHECKSUM);
	bms_rx_clear(&rx);
	snprintf(t, sizeof(t), "%.100s", CHINSNUS_01);
	r = FEED_TEXT(&poll, &rx, t, chunks_one);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* another length (the header says 0x8E: 142), a wrong head */
	CHECK_EQ_INT(handle_text(edited(4, 0x8E), 0), BMS_E_CHECKSUM);
	CHECK_EQ_INT(handle_text("#000250000E03~", 0), BMS_E_HEADER);
	/* the read echoed; another command; after the poll; SOC 101 */
	CHECK_EQ_INT(handle_text(CHINSNUS_REQ_RT, 0), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_text(edited(1, 0x83), 0), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_text(CHINSNUS_01, 1), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_text(edited(61, 101), 0), BMS_E_RANGE);
	/* forced cells */
	bms_poll_begin(&poll, 0, 2, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)CHINSNUS_01, strlen(CHINSNUS_01)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 2);
	CHECK_NEAR(poll.snap.voltage, 6.527, 1e-4);
}

/* --ble-scan: Chins' names, which chins's hints no longer take. */
static void test_hints(void)
{
	static const char *const yes[] = { "G-12V300Ah-0345", "G-24V100AH-1", "G-12V100Ah-0001" };
	static const char *const no[] = { "G-12V", "G-V100Ah-1", "G-12V300Ah-", "L-12V100AH-0902", "SV12V150",
					  "" };
	for (size_t k = 0; k < DRIVE_NCH(yes); k++)
		CHECK(drive_hinted(yes[k]));
	for (size_t k = 0; k < DRIVE_NCH(no); k++)
		CHECK(!drive_hinted(no[k]));
	const struct bms_ble_hint *c = bms_chins_driver.ble->hints;
	for (size_t k = 0; k < DRIVE_NCH(yes); k++)
		for (int i = 0; c[i].why; i++)
			CHECK(!(c[i].kind == BMS_BLE_NAME && (c[i].prefix ? strncmp(yes[k], c[i].prefix,
										    strlen(c[i].prefix)) == 0
									   : c[i].name_ok(yes[k]))));
}

int main(void)
{
	test_table();
	test_polls();
	test_heater();
	test_rt128();
	test_broken();
	test_hints();
	return check_report();
}
