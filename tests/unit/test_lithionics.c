/* SPDX-License-Identifier: MIT */
/* tests/unit/test_lithionics.c - Lithionics NeverDie / Li3 over Bluetooth
 * LE (bms/lithionics.c): the lithionics rows of tests/fixtures/vectors.tsv
 * (the stream of aiobmsble's test and the lines of its pull request 149,
 * a live Li3 pack) through scan() + handle() as the gateway's listening
 * poll runs them, in every chunking, either line first, with an "ERROR"
 * line and a line cut at the stream's start before them; and broken: a
 * field short or too many, a field that is no number, a damaged byte, no
 * CR LF, SOC, voltage and cells out of range, the fixed-length variant
 * (refused), a stream cut short.  Nothing is ever written (listen only).
 * Protocol facts: bms/PROTOCOLS.md §59. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_lithionics_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family lithionics: each line with its CR LF */
#define LITHIONICS_01 "313339392c3335302c3335302c3335302c3334392c35352c34382c2d332c39392c3030303030300d0a"
#define LITHIONICS_02 "262c312c3331392c3030363339312c303133362c323330302c464630352c383730300d0a"
#define LITHIONICS_03 "313339352c3334392c3334392c3334392c3334382c35352c34382c302c39392c3030303030300d0a"
#define LITHIONICS_04 "262c312c3331392c3631333433322c303133362c323330302c464630352c383730300d0a"
#define LITHIONICS_05 "4552524f520d0a"
#define LITHIONICS_06 "312c30313539342c303532352c3034382c3034382c302c30303030302c3030303030302c3038302c3030303130300d0a"

/* A poll fed text (ASCII lines) in the chunking c: the result of the
 * listening poll (r->ok 1 when a sample completed). */
static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const char *text, const struct drive_chunking *c,
			     bool inv, uint8_t forced)
{
	drive_begin_link(poll, rx, 0, forced, inv, BMS_LINK_BLE, true);
	return drive_feed_text(poll, rx, text, c->ch, c->n);
}

/* handle() of one line (text, its CR LF included) on a fresh poll. */
static int handle_text(const char *line)
{
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	return drv->handle(&poll, (const uint8_t *)line, strlen(line));
}

static void check_01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[4] = { 3500, 3500, 3500, 3490 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.99, 1e-4);
	CHECK_NEAR(s->current, inv ? 3.0 : -3.0, 1e-6);
	CHECK_NEAR(s->soc, 99.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 319.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 12.7778, 1e-3); /* 55 degF */
	CHECK_NEAR(s->temp_c[1], 8.8889, 1e-3);  /* 48 degF */
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_CELLS |
					 BMS_HAS_TEMPS | BMS_HAS_ALARMS);
}

/* The fixtures as text (their hex decoded). */
static char L01[64], L02[64], L03[64], L04[64], L05[16], L06[80];

static void text_of(const char *hex, char *out, size_t cap)
{
	int n = drive_hex(hex, (uint8_t *)out, (int)cap - 1);
	out[n] = '\0';
}

static void test_table(void)
{
	CHECK_STR(drv->name, "lithionics");
	CHECK_EQ_INT(drv->protocol_id, 50);
	CHECK(bms_find("lithionics") == drv);
	CHECK(bms_ble_only(drv) && drv->listen_only && !drv->next_request && !drv->listens);
	CHECK_STR(drv->ble->gatt[0].service, "0000ffe0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000ffe1-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[0].write == NULL); /* nothing is ever written */
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(!drv->control && !drv->probe && !drv->ble->company && !drv->ble->auth);
	CHECK(drive_hinted("Li3-061322094") && drive_hinted("Li5-1"));
	CHECK(!drive_hinted("Li-3") && !drive_hinted("Lithium") && !drive_hinted("LI3-0613") && !drive_hinted("L-12"));
}

/* aiobmsble's stream (ERROR, the primary, the status line) and the lines
 * of its pull request, status first, in every chunking, inverted too. */
static void test_polls(void)
{
	char text[512];
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			snprintf(text, sizeof(text), "%s%s%s", L05, L01, L02);
			struct drive_res r = feed(&poll, &rx, text, &drive_chunkings[k], inv, 0);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.more, 1);
			CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
			CHECK_EQ_INT(r.skipped, 7); /* ERROR */
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			check_01(&poll.snap, inv);
			snprintf(text, sizeof(text), "%s%s", L04, L03);
			r = feed(&poll, &rx, text, &drive_chunkings[k], inv, 0);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			CHECK_NEAR(poll.snap.voltage, 13.95, 1e-4);
			CHECK_NEAR(poll.snap.current, 0.0, 1e-6);
			CHECK_EQ_INT(poll.snap.cell_mv[3], 3480);
			CHECK_NEAR(poll.snap.remain_ah, 319.0, 1e-4);
		}
}

/* The stream joined mid-line: the cut line is skipped, whole lines after
 * it make the sample; a line after the sample is the next poll's. */
static void test_resync(void)
{
	char text[512];
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	snprintf(text, sizeof(text), "%s%s%s%s", L01 + 9, L02 + 4, L01, L02);
	struct drive_res r = feed(&poll, &rx, text, &drive_chunkings[0], false, 0);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(r.badsum, 0);
	check_01(&poll.snap, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)L01, strlen(L01)), BMS_E_UNEXPECTED);
	/* the cells forced to 3 */
	snprintf(text, sizeof(text), "%s%s", L01, L02);
	r = feed(&poll, &rx, text, &drive_chunkings[1], false, 3);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 0);
}

/* Lines that are no frame: skipped whole, never taken. */
static void test_not_frames(void)
{
	static const char *const skip[] = {
		"1399,350,350,350,349,55,48,-3,99\r\n",		  /* nine fields */
		"1399,350,350,350,349,55,48,-3,99,000000,1\r\n",  /* eleven */
		"1399,350,3a0,350,349,55,48,-3,99,000000\r\n",	  /* a cell that is no number */
		"1399,350,350,350,349,55,48,-3,99,00000G\r\n",	  /* the status code not hex */
		"1399,350,350,350,349,55,48,-3.5,99,000000\r\n", /* a fraction: not in any capture */
		"1399,350,350,350,349,55,48,,99,000000\r\n",	  /* an empty field */
		"&,1\r\n",					  /* a status line without the Ah */
		"&,1,x19,0\r\n",
		"text\r\n",
		"\r\n",
	};
	for (size_t i = 0; i < DRIVE_NCH(skip); i++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		struct drive_res r = feed(&poll, &rx, skip[i], &drive_chunkings[3], false, 0);
		CHECK_EQ_INT(r.frames, 0);
		CHECK_EQ_INT(r.badsum, 0);
		CHECK_EQ_INT(r.skipped, strlen(skip[i]));
		CHECK(handle_text(skip[i]) == (strlen(skip[i]) < 4 ? BMS_E_SHORT : BMS_E_HEADER));
	}
	/* "&,1,2": the remaining Ah alone (aiobmsble's variant test) */
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)"&,1,2\r\n", 7), BMS_MORE);
	CHECK_NEAR(poll.snap.remain_ah, 2.0, 1e-6);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID); /* no primary line */
}

/* Broken input: damaged bytes, no CR LF, values out of range, the
 * fixed-length variant, a stream cut short. */
static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	char text[512];
	/* a byte that is no printable ASCII: the line dropped whole, counted */
	snprintf(text, sizeof(text), "13\x80" "9,350,350,350,349,55,48,-3,99,000000\r\n%s%s", L01, L02);
	struct drive_res r = feed(&poll, &rx, text, &drive_chunkings[1], false, 0);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.ok, 1);
	/* 100 bytes without CR LF, then the lines */
	memset(text, '1', 100);
	snprintf(text + 100, sizeof(text) - 100, "\r\n%s%s", L01, L02);
	r = feed(&poll, &rx, text, &drive_chunkings[0], false, 0);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(r.skipped, 102);
	/* a status line whose CR LF ends at byte 81, one past the longest
	 * taken (the fuzzer's find): skipped, never a frame over 80 bytes */
	memset(text, 0, sizeof(text));
	memcpy(text, "&,1,319,", 8);
	memset(text + 8, 'L', 79 - 8);
	snprintf(text + 79, sizeof(text) - 79, "\r\n%s%s", L01, L02);
	r = feed(&poll, &rx, text, &drive_chunkings[3], false, 0); /* all at once */
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(r.skipped, 81);
	/* values no battery has */
	CHECK_EQ_INT(handle_text("1399,350,350,350,349,55,48,-3,101,000000\r\n"), BMS_E_RANGE);
	CHECK_EQ_INT(handle_text("0,350,350,350,349,55,48,-3,99,000000\r\n"), BMS_E_RANGE);
	CHECK_EQ_INT(handle_text("-1399,350,350,350,349,55,48,-3,99,000000\r\n"), BMS_E_RANGE);
	CHECK_EQ_INT(handle_text("1399,350,350,9999,349,55,48,-3,99,000000\r\n"), BMS_E_RANGE);
	CHECK_EQ_INT(handle_text("1399,350,350,350,349,55,48,-3001,99,000000\r\n"), BMS_E_RANGE);
	CHECK_EQ_INT(handle_text("&,1,-5,0\r\n"), BMS_E_RANGE);
	CHECK_EQ_INT(handle_text("1399,350\r"), BMS_E_SHORT);
	/* the fixed-length variant (aiobmsble PR 271's 16S pack): refused */
	CHECK_EQ_INT(handle_text(L06), BMS_E_HEADER);
	r = feed(&poll, &rx, L06, &drive_chunkings[0], false, 0);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_HEADER);
	/* the status code: raw, no alarm raised from it */
	CHECK_EQ_INT(handle_text("1399,350,350,350,349,55,48,-3,99,01A2B3\r\n"), BMS_MORE);
	bms_poll_begin(&poll, 0, 0, false);
	static const char st[] = "1399,350,350,350,349,55,48,-3,99,01A2B3\r\n";
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)st, sizeof(st) - 1), BMS_MORE);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0xA2B3);
	CHECK_EQ_INT(poll.snap.raw_alarms[1], 0x0001);
	CHECK_EQ_INT(poll.snap.alarms, 0);
	/* cut short: the status line's CR LF never came */
	snprintf(text, sizeof(text), "%s%.*s", L01, (int)strlen(L02) - 2, L02);
	r = feed(&poll, &rx, text, &drive_chunkings[2], false, 0);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	text_of(LITHIONICS_01, L01, sizeof(L01));
	text_of(LITHIONICS_02, L02, sizeof(L02));
	text_of(LITHIONICS_03, L03, sizeof(L03));
	text_of(LITHIONICS_04, L04, sizeof(L04));
	text_of(LITHIONICS_05, L05, sizeof(L05));
	text_of(LITHIONICS_06, L06, sizeof(L06));
	test_table();
	test_polls();
	test_resync();
	test_not_frames();
	test_broken();
	return check_report();
}
