/* SPDX-License-Identifier: MIT */
/* tests/unit/test_lolan.c - the Lolan BMS over Bluetooth LE (bms/lolan.c):
 * the lolan rows of tests/fixtures/vectors.tsv (syssi's status and cell
 * frames of a 7S pack, the requests with the maker's password, the
 * confirmation of a refused one) through scan() + handle() as the gateway
 * runs a poll, in every chunking: both reads with the password inside,
 * each marked a secret for the log; the pack's pin as the password; a
 * refusal (auth failed); broken input (a type that is none, byte 1 not
 * zero, a frame cut short, NaN and out-of-range floats, a cell count of 0
 * or beyond 16, a SOC over 100 %, the settings frame unasked, an answer
 * to the other read); `cells =`.  Protocol facts: bms/PROTOCOLS.md §76. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_lolan_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family lolan */
#define LOLAN_REQ_STATUS "c56500bc614e"
#define LOLAN_REQ_CELLS "5b6500bc614e"
#define LOLAN_01 "0100030041b8e6b8000000000000000041d59f3041cd0b30429d9320424753ec00343f6e00010027"
#define LOLAN_02                                                                                                       \
	"0200070000000000000000000000000000000000405666664053333340533ae1405347ae40533ae14053428f4053400040533d71" \
	"000000000000000000000000000000000000000000000000000000000000000000000000"
#define LOLAN_03 "211d1ae3"

enum { LL_STATUS = 0, LL_CELLS, LL_DONE };

static const uint16_t cells_7[7] = { 3300, 3300, 3301, 3300, 3301, 3301, 3301 };

static void check_values(const struct bms_snapshot *s)
{
	CHECK_NEAR(s->voltage, 23.113, 1e-3);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 39.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 1);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 26.703, 1e-3);
	CHECK_NEAR(s->temp_c[1], 25.63, 1e-3);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	drive_check_cells(s, cells_7, 7);
}

static void begin(struct bms_poll *poll, struct bms_rx *rx)
{
	drive_begin_link(poll, rx, 0, 0, false, BMS_LINK_BLE, true);
}

static void test_table(void)
{
	CHECK(bms_ble_only(drv) && drv->ble->gatt && drv->ble->gatt[1].service && !drv->ble->gatt[2].service);
	CHECK_STR(drv->ble->gatt[0].notify, "0000ffe1-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000ffe2-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[1].service, "0000fff0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->name, "lolan");
	CHECK_EQ_INT(drv->protocol_id, 66);
	CHECK(drive_hinted("LOLAN8S45A") && !drive_hinted("LOLA"));
	const struct bms_ble_pin *p = drv->ble->pin;
	CHECK(p && p->digits && p->max_value == 4294967295u && !p->silent);
	CHECK_STR(p ? p->dflt : "", "12345678");
}

static void test_poll(void)
{
	static const char *const answers[] = { LOLAN_01, LOLAN_02 };
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		begin(&poll, &rx);
		poll.secret_req = false;
		CHECK(drive_req_is(&poll, LOLAN_REQ_STATUS));
		CHECK(poll.secret_req);
		CHECK_EQ_INT(poll.auth, BMS_AUTH_SENT);
		CHECK_EQ_INT(drive_poll_hex(&poll, &rx, answers, 2, &drive_chunkings[k], 6), BMS_OK);
		check_values(&poll.snap);
		CHECK_EQ_INT(poll.auth, BMS_AUTH_OK);
	}
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx);
	poll.step = LL_CELLS;
	poll.secret_req = false;
	CHECK(drive_req_is(&poll, LOLAN_REQ_CELLS));
	CHECK(poll.secret_req);
	drive_request_ends(&poll, 5, LL_DONE);
}

static void test_pin(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx);
	snprintf(poll.pin, sizeof(poll.pin), "4294967295");
	CHECK(drive_req_is(&poll, "c565ffffffff"));
	snprintf(poll.pin, sizeof(poll.pin), "0");
	CHECK(drive_req_is(&poll, "c56500000000"));
	snprintf(poll.pin, sizeof(poll.pin), "20240601");
	CHECK(drive_req_is(&poll, "c5650134d8d9"));
	/* refused: auth failed, at either read */
	struct drive_res r = drive_feed_hex(&poll, &rx, LOLAN_03, drive_odd, DRIVE_NCH(drive_odd));
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_AUTH);
	CHECK_EQ_INT(drive_handle_at(LOLAN_03, LL_CELLS), BMS_E_AUTH);
	/* another confirmation (settings taken) is no answer */
	CHECK_EQ_INT(drive_handle_at("2f9983ca", LL_STATUS), BMS_E_UNEXPECTED);
}

/* A frame (hex) with bytes at `at` replaced by v (big-endian, len bytes):
 * its error as the answer to step. */
static int bad(const char *hex, int at, uint32_t v, int len, int step)
{
	uint8_t b[128];
	size_t n = (size_t)check_hex(hex, b, (int)sizeof(b));
	for (int i = 0; i < len; i++)
		b[at + i] = (uint8_t)(v >> (8 * (len - 1 - i)));
	return drive_bad_frame(b, n, step);
}

static void test_broken(void)
{
	uint8_t b[128];
	/* garbage, a type byte with a wrong byte 1, before the answers */
	drive_check_broken(LL_STATUS, LL_CELLS, "7e00010501aa", LOLAN_01, 0, 0, NULL);
	drive_check_broken(LL_CELLS, LL_DONE, "ff0209", LOLAN_02, 0, 0, NULL);
	/* the settings frame (never asked) and the other read's answer: ignored */
	char settings[2 * 108 + 1];
	memset(settings, '0', sizeof(settings) - 1);
	settings[sizeof(settings) - 1] = 0;
	settings[1] = '3';
	drive_check_broken(LL_STATUS, LL_CELLS, settings, LOLAN_01, 0, 1, NULL);
	drive_check_broken(LL_CELLS, LL_DONE, LOLAN_01, LOLAN_02, 0, 1, NULL);
	drive_scan_whole(LOLAN_01, b, sizeof(b), 40);
	drive_scan_whole(LOLAN_02, b, sizeof(b), 88);
	/* values that cannot be */
	CHECK_EQ_INT(bad(LOLAN_01, 4, 0x7FC00000u, 4, LL_STATUS), BMS_E_RANGE);  /* voltage NaN */
	CHECK_EQ_INT(bad(LOLAN_01, 4, 0x00000000u, 4, LL_STATUS), BMS_E_RANGE);  /* 0 V */
	CHECK_EQ_INT(bad(LOLAN_01, 8, 0xBF800000u, 4, LL_STATUS), BMS_E_RANGE);  /* a negative magnitude */
	CHECK_EQ_INT(bad(LOLAN_01, 12, 0x7F800000u, 4, LL_STATUS), BMS_E_RANGE); /* infinity */
	CHECK_EQ_INT(bad(LOLAN_01, 38, 101, 2, LL_STATUS), BMS_E_RANGE);         /* SOC 101 % */
	CHECK_EQ_INT(bad(LOLAN_02, 2, 0, 1, LL_CELLS), BMS_E_RANGE);             /* no cells */
	CHECK_EQ_INT(bad(LOLAN_02, 2, 17, 1, LL_CELLS), BMS_E_RANGE);            /* 17 cells */
	CHECK_EQ_INT(bad(LOLAN_02, 2, 8, 1, LL_CELLS), BMS_E_RANGE);             /* an 8th cell of 0 V */
	/* the current: the larger of the two, discharge negative; the alarm bits */
	size_t n = (size_t)check_hex(LOLAN_01, b, (int)sizeof(b));
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	static const uint8_t dsg[4] = { 0x41, 0x20, 0x00, 0x00 }, chg[4] = { 0x3F, 0x80, 0x00, 0x00 };
	memcpy(b + 8, dsg, 4); /* 10 A out */
	memcpy(b + 12, chg, 4); /* 1 A in */
	b[2] = 0x02;
	b[3] = 0x81;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drive_step_at(&poll, &rx, LL_STATUS, b, n, chunks_big, 1).ok, 1);
	CHECK_NEAR(poll.snap.current, -10.0, 1e-6);
	CHECK(poll.snap.chg_mos && !poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_PACK_OV | BMS_AL_SHORT | BMS_AL_PROTECTION);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x81);
	/* handle() on what the framer never gives */
	CHECK_EQ_INT(drv->handle(&poll, b, 3), BMS_E_SHORT);
	poll.step = LL_STATUS;
	CHECK_EQ_INT(drv->handle(&poll, b, n - 1), BMS_E_SHORT);
	b[0] = 0x09;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_HEADER);
}

static void test_forced(void)
{
	drive_check_forced(LL_CELLS, LOLAN_02, cells_7, 7);
}

int main(void)
{
	test_table();
	test_poll();
	test_pin();
	test_broken();
	test_forced();
	return check_report();
}
