/* SPDX-License-Identifier: MIT */
/* tests/unit/test_creabest_vb.c - Creabest VB series packs over Bluetooth
 * LE (bms/creabest_vb.c): the creabestvb rows of tests/fixtures/vectors.tsv
 * (aiobmsble's mock pack: 4 cells, 13.3 V, 2 sensors, SOC 96 %, 200 Ah; its
 * problem answers with the first and the last bit set) through scan() +
 * handle() in whole polls as the gateway runs them, in every chunking,
 * with the reads echoed and noise before the answers; the table (20-byte
 * writes, the --ble-scan hints); broken input (bad CHKSUM, bad LCHKSUM,
 * another VER, a stray character, truncated, counts that walk past the
 * INFO, too many cells, an error code, the other read's answer).
 * Protocol facts: bms/PROTOCOLS.md §67. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const struct bms_driver *const drv = &bms_creabest_vb_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family creabestvb (the ASCII frames with their '~' and CR, as hex) */
#define CREABESTVB_REQ_42 "7e3131303134363432453030323031464433350d"
#define CREABESTVB_REQ_81 "7e313130313436383141303036303130303031464337310d"
#define CREABESTVB_01 \
	"7e32323031343630303630343630343044303030434645304346453043464530323030334530303439303030303030383530" \
	"303630303730303030303038363030303030303030303030303030303030303030454636300d"
#define CREABESTVB_02 "7e32323031343630304330303430374430464342460d"
#define CREABESTVB_03 \
	"7e32323031343630303630343630343044303030434645304346453043464530323030334530303439303030303030383530" \
	"303630303730303030303038363030303030303030303030303030303030303031454635460d"
#define CREABESTVB_04 \
	"7e32323031343630303630343630343044303030434645304346453043464530323030334530303439303030303030383530" \
	"303630303730303030303038363030303030303030383030303030303030303030454635380d"

/* An answer (VER 0x22, ADR 1, CID1 0x46) of RTN rtn and INFO info (hex
 * text) as the hex of its ASCII, LENGTH and CHKSUM computed here. */
static void vb_frame(char *out, size_t cap, unsigned ver, unsigned rtn, const char *info)
{
	char t[600];
	unsigned lenid = (unsigned)strlen(info), s = (lenid & 15) + (lenid >> 4 & 15) + (lenid >> 8 & 15);
	unsigned length = ((16 - (s & 15)) & 15) << 12 | lenid, sum = 0;
	snprintf(t, sizeof(t), "%02X0146%02X%04X%s", ver, rtn, length, info);
	for (const char *c = t; *c; c++)
		sum += (unsigned char)*c;
	snprintf(t + strlen(t), sizeof(t) - strlen(t), "%04X", (~sum + 1) & 0xFFFF);
	size_t o = (size_t)snprintf(out, cap, "7e");
	for (const char *c = t; *c && o + 3 < cap; c++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", (unsigned char)*c);
	snprintf(out + o, cap - o, "0d");
}

/* The answer to `step` (hex) in every chunking: it decodes (the poll
 * moves on), no error, nothing ignored; *last: the last poll. */
static void vb_take(const char *hex, struct bms_poll *last)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		uint8_t b[512];
		size_t n = (size_t)drive_hex(hex, b, (int)sizeof(b));
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_step_at(&poll, &rx, 0, b, n, drive_chunkings[k].ch, drive_chunkings[k].n);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan + r.badsum, 0);
		CHECK_EQ_INT(poll.step, 1);
		*last = poll;
	}
}

static void test_table(void)
{
	CHECK_STR(drv->name, "creabest-vb");
	CHECK_EQ_INT(drv->protocol_id, 58);
	CHECK(bms_find("creabest-vb") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && !drv->listens && !drv->probe && !drv->control);
	CHECK_STR(drv->ble->gatt[0].service, "0000ffe0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000ffe4-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000ffe9-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write_service, "0000ffe5-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK_EQ_INT(drv->ble->write_piece, 20);
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_NAME && h[0].name_ok("VB024001223") && h[0].name_ok("VB123456789"));
	CHECK(!h[0].name_ok("VB101-172") && !h[0].name_ok("VB0240012234") && !h[0].name_ok("XB024001223") &&
	      !h[0].name_ok("140R00036D") && !h[0].name_ok(""));
	CHECK(h[1].kind == BMS_BLE_COMPANY_SERVICE && h[1].value == 0xFFF04243u);
	CHECK(h[2].why == NULL);
	/* ranked before every hint of cbt-power, whose service FFE5 a VB pack has too */
	for (const struct bms_ble_hint *c = bms_cbt_power_driver.ble->hints; c->why; c++)
		CHECK(h[0].rank < c->rank && h[1].rank < c->rank);
}

/* The two reads in order, each the fixtures' request; one 20 bytes, one
 * 24 (two writes of 20 and 4). */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t req[64];
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, CREABESTVB_REQ_42));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 20);
	poll.step = 1;
	CHECK(drive_req_is(&poll, CREABESTVB_REQ_81));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 24);
	poll.step = 0;
	drive_request_ends(&poll, 19, 2);
	/* the requests are no answers: scan() skips each whole */
	size_t n = 0;
	int k = check_hex(CREABESTVB_REQ_81, req, (int)sizeof(req));
	CHECK_EQ_INT(drv->scan(NULL, req, (size_t)k, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 24);
}

static void check_pack(const struct bms_snapshot *s)
{
	static const uint16_t c[4] = { 3328, 3326, 3326, 3326 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.3, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 6.2, 1e-5);
	CHECK_NEAR(s->temp_c[1], 7.3, 1e-5);
	CHECK_NEAR(s->soc, 96.0, 1e-6);
	CHECK_NEAR(s->full_ah, 200.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK_EQ_INT(s->nraw, 3);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_TEMPS | BMS_HAS_SOC | BMS_HAS_FULL |
					 BMS_HAS_CYCLES | BMS_HAS_ALARMS | BMS_HAS_CELLS);
}

/* aiobmsble's pack, in every chunking, each answer after its read
 * echoed and after noise. */
static void test_pack(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			const char *const a[] = { CREABESTVB_REQ_42 CREABESTVB_01, "0d0a41" CREABESTVB_REQ_81 CREABESTVB_02 };
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			CHECK_EQ_INT(drive_poll_hex(&poll, &rx, a, 2, &drive_chunkings[k], 0), BMS_OK);
			check_pack(&poll.snap);
			CHECK_EQ_INT(poll.snap.alarms, 0);
			CHECK_EQ_INT(poll.snap.raw_alarms[0] | poll.snap.raw_alarms[1] | poll.snap.raw_alarms[2], 0);
		}
	uint8_t b[128];
	drive_scan_whole(CREABESTVB_01, b, sizeof(b), 88);
	drive_scan_whole(CREABESTVB_02, b, sizeof(b), 22);
}

/* The problem bytes: the first bit and the last of aiobmsble's mask raise
 * OTHER, a bit outside it does not; raw as sent. */
static void test_problems(void)
{
	struct bms_poll last;
	vb_take(CREABESTVB_03, &last);
	CHECK_EQ_INT(last.snap.raw_alarms[2], 0x0001);
	CHECK_EQ_INT(last.snap.alarms, BMS_AL_OTHER);
	vb_take(CREABESTVB_04, &last);
	CHECK_EQ_INT(last.snap.raw_alarms[0], 0x8000);
	CHECK_EQ_INT(last.snap.alarms, BMS_AL_OTHER);
	/* bits 12..23 (outside the mask: FFF0 00FF 000F) are raw only */
	char f[400];
	vb_frame(f, sizeof(f), 0x22, 0,
		 "040D000CFE0CFE0CFE02003E0049" "0000" "0085" "0060" "07" "0000" "008600000000" "000FF0000FF0");
	vb_take(f, &last);
	CHECK_EQ_INT(last.snap.raw_alarms[0], 0x000F);
	CHECK_EQ_INT(last.snap.raw_alarms[1], 0xF000);
	CHECK_EQ_INT(last.snap.raw_alarms[2], 0x0FF0);
	CHECK_EQ_INT(last.snap.alarms, 0);
}

/* Counts and values of a made-up answer, and the ones that cannot be. */
static void test_counts(void)
{
	char f[400];
	struct bms_poll last;
	/* 2 cells, no sensor, -12.5 A, SOC 120 (taken as 100), 513 cycles */
	vb_frame(f, sizeof(f), 0x22, 0, "020CE40CE500FF83" "0042" "0078" "00" "0201" "000000000000" "000000000000");
	vb_take(f, &last);
	CHECK_EQ_INT(last.snap.ncells, 2);
	CHECK_EQ_INT(last.snap.ntemps, 0);
	CHECK_EQ_INT(last.snap.present & BMS_HAS_TEMPS, 0);
	CHECK_NEAR(last.snap.current, -12.5, 1e-5);
	CHECK_NEAR(last.snap.voltage, 6.6, 1e-5);
	CHECK_NEAR(last.snap.soc, 100.0, 1e-6);
	CHECK_EQ_INT(last.snap.cycles, 513);
	/* invert_current: charging shown as discharging turned round */
	struct bms_poll inv = { 0 };
	struct bms_rx irx;
	uint8_t fb[256];
	drive_begin_link(&inv, &irx, 0, 0, true, BMS_LINK_BLE, false);
	size_t fl = (size_t)drive_hex(f, fb, (int)sizeof(fb));
	CHECK_EQ_INT(drive_step_at(&inv, &irx, 0, fb, fl, drive_odd, DRIVE_NCH(drive_odd)).ok, 1);
	CHECK_NEAR(inv.snap.current, 12.5, 1e-5);
	/* a forced count of 1..4 cells, 5 more than sent: all 4 */
	static const uint16_t mv[4] = { 3328, 3326, 3326, 3326 };
	for (int forced = 1; forced <= 5; forced++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		uint8_t b[256];
		drive_begin_link(&poll, &rx, 0, (uint8_t)forced, false, BMS_LINK_BLE, false);
		size_t len = (size_t)drive_hex(CREABESTVB_01, b, (int)sizeof(b));
		struct drive_res r = drive_step_at(&poll, &rx, 0, b, len, drive_notif20, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.ncells, forced < 4 ? forced : 4);
		CHECK_EQ_INT(poll.snap.cell_mv[0], mv[0]);
	}
	uint8_t b[512];
	size_t n;
	/* the tail one byte short (INFO 34 bytes) */
	vb_frame(f, sizeof(f), 0x22, 0, "040D000CFE0CFE0CFE02003E00490000008500600700000086000000000000000000");
	n = (size_t)drive_hex(f, b, (int)sizeof(b));
	CHECK_EQ_INT(drive_bad_frame(b, n, 0), BMS_E_SHORT);
	/* a cell count that walks past the INFO; 33 cells; 0 cells */
	vb_frame(f, sizeof(f), 0x22, 0, "130D000CFE0CFE0CFE02003E0049000000850060070000008600000000000000000000");
	n = (size_t)drive_hex(f, b, (int)sizeof(b));
	CHECK_EQ_INT(drive_bad_frame(b, n, 0), BMS_E_SHORT);
	vb_frame(f, sizeof(f), 0x22, 0, "210D000CFE0CFE0CFE02003E0049000000850060070000008600000000000000000000");
	n = (size_t)drive_hex(f, b, (int)sizeof(b));
	CHECK_EQ_INT(drive_bad_frame(b, n, 0), BMS_E_RANGE);
	vb_frame(f, sizeof(f), 0x22, 0, "000D000CFE0CFE0CFE02003E0049000000850060070000008600000000000000000000");
	n = (size_t)drive_hex(f, b, (int)sizeof(b));
	CHECK_EQ_INT(drive_bad_frame(b, n, 0), BMS_E_RANGE);
	/* a sensor count past the INFO; 17 sensors (a snapshot holds 16) */
	vb_frame(f, sizeof(f), 0x22, 0, "040D000CFE0CFE0CFE07003E0049000000850060070000008600000000000000000000");
	n = (size_t)drive_hex(f, b, (int)sizeof(b));
	CHECK_EQ_INT(drive_bad_frame(b, n, 0), BMS_E_SHORT);
	vb_frame(f, sizeof(f), 0x22, 0, "040D000CFE0CFE0CFE11003E0049000000850060070000008600000000000000000000");
	n = (size_t)drive_hex(f, b, (int)sizeof(b));
	CHECK_EQ_INT(drive_bad_frame(b, n, 0), BMS_E_RANGE);
	/* an error code: refused */
	vb_frame(f, sizeof(f), 0x22, 0x02, "");
	n = (size_t)drive_hex(f, b, (int)sizeof(b));
	CHECK_EQ_INT(drive_bad_frame(b, n, 0), BMS_E_REFUSED);
}

static void test_broken(void)
{
	char f[400];
	/* each read's answer at the other's step: ignored */
	CHECK_EQ_INT(drive_handle_at(CREABESTVB_01, 1), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at(CREABESTVB_02, 0), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at(CREABESTVB_02, 2), BMS_E_UNEXPECTED); /* the poll is over */
	/* another protocol version (VER 0x21): no answer of a VB pack */
	vb_frame(f, sizeof(f), 0x21, 0, "07D0");
	CHECK_EQ_INT(drive_handle_at(f, 1), BMS_E_HEADER);
	/* another address */
	CHECK_EQ_INT(drive_handle_at("7e32323032343630304330303430374430464342450d", 1), BMS_E_UNEXPECTED);
	/* CHKSUM wrong (aiobmsble's wrong_CRC), LCHKSUM wrong (wrong_LRC), a stray character
	 * (wrong_head_ENC), the start and the end (wrong_SOF, wrong_EOF), truncated */
	CHECK_EQ_INT(drive_handle_at("7e32323031343630304330303430374430464342300d", 1), BMS_E_CHECKSUM);
	CHECK_EQ_INT(drive_handle_at("7e32323031343630303030303430374430464342300d", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("7e32323031343630304329303430374430464342460d", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("0e32323031343630304330303430374430464342460d", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("7e32323031343630304330303430374430464342460c", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("7e323230313436303043303034303744300d", 1), BMS_E_SHORT);
	/* the framer: a bad CHKSUM counted, the good answer after it taken */
	drive_check_broken(1, 2, "7e32323031343630304330303430374430464342300d", CREABESTVB_02, 1, 0, NULL);
	/* a wrong LCHKSUM, a stray character, a wrong end, a truncated frame, 13 zero bytes before */
	drive_check_broken(1, 2,
			   "7e32323031343630303030303430374430464342300d"
			   "7e32323031343630304329303430374430464342460d"
			   "7e32323031343630304330303430374430464342460c"
			   "7e3232303134363030433030"
			   "00000000000000000000000000",
			   CREABESTVB_02, 0, 0, NULL);
	/* a truncated answer alone: no frame, the poll incomplete */
	struct bms_poll poll;
	struct bms_rx rx;
	bms_poll_begin(&poll, 0, 0, false);
	bms_rx_clear(&rx);
	struct drive_res r = FEED_HEX(&poll, &rx, "7e3232303134363030433030343037", drive_notif20);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_requests();
	test_pack();
	test_problems();
	test_counts();
	test_broken();
	return check_report();
}
