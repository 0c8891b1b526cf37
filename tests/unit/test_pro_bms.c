/* SPDX-License-Identifier: MIT */
/* tests/unit/test_pro_bms.c - the Pro BMS smart shunt over Bluetooth LE
 * (Foxwell BT630, Leagend CM100; bms/pro_bms.c): the probms rows of
 * tests/fixtures/vectors.tsv (aiobmsble's recorded handshake, init answer,
 * machine info and two stream frames) through scan() + handle() as the
 * gateway runs a poll: the handshake on a fresh connection (INIT answered,
 * 0x40, 0x42 unanswered: its timeout moves on, 0x43 answered by the
 * stream), then listening polls, a silent stream starting the handshake
 * again, in every chunking; the XOR check (aiobmsble's two hand-edited
 * frames fail it), broken input (truncated, a wrong length, SOC and
 * voltage out of range, a request echoed, a frame of another type while
 * listening), the protection flags, a temperature below 0.  Only the
 * handshake is ever written.  Protocol facts: bms/PROTOCOLS.md §60. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_pro_bms_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family probms */
#define PROBMS_REQ_INIT "55aa0a0101558004077f648e682b"
#define PROBMS_REQ_HWID "55aa070101558040000095"
#define PROBMS_REQ_STREAM "55aa070101558042000097"
#define PROBMS_REQ_TRIGGER "55aa0901015580430000120084"
#define PROBMS_01 "55aa080380aa01040000002c52"
#define PROBMS_02                                                                                                      \
	"55aa2d0480aa01701c05000096090080e2000000ad19000033000000ca050000890c0000770b0000044e000082648e684000"
#define PROBMS_03                                                                                                      \
	"55aa2d0480aa01703b05000066340000da00000057100000200000008601000029460000580a0000eb4600000bd98c68afff"
#define PROBMS_04 "55aa200380aa0140008000000002000000f7040000c800000004010000065eaf7a4ee0f700"

/* aiobmsble's hand-edited copies of PROBMS-02 (byte 15 0x81) and -03 (SOC
 * 0), their check bytes left as they were: they fail the XOR */
#define EDIT_PROT                                                                                                      \
	"55aa2d0480aa01701c05000096090081e2000000ad19000033000000ca050000890c0000770b0000044e000082648e684000"
#define EDIT_SOC0                                                                                                      \
	"55aa2d0480aa01703b05000066340000da00000057100000000000008601000029460000580a0000eb4600000bd98c68afff"

enum { PB_INIT = 1, PB_HWID, PB_STREAM, PB_TRIGGER, PB_DATA, PB_DONE };

static void check_02(const struct bms_snapshot *s, bool inv)
{
	CHECK_NEAR(s->voltage, 13.08, 1e-4);
	CHECK_NEAR(s->current, inv ? 2.454 : -2.454, 1e-5);
	CHECK_NEAR(s->power, inv ? 32.09 : -32.09, 1e-3);
	CHECK_NEAR(s->temp_c[0], 22.6, 1e-4);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->soc, 51.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 65.73, 1e-4);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_TEMPS | BMS_HAS_REMAIN |
					 BMS_HAS_SOC | BMS_HAS_ALARMS);
}

static void check_03(const struct bms_snapshot *s)
{
	CHECK_NEAR(s->voltage, 13.39, 1e-4);
	CHECK_NEAR(s->current, 13.414, 1e-5);
	CHECK_NEAR(s->power, 179.61, 1e-3);
	CHECK_NEAR(s->temp_c[0], 21.8, 1e-4);
	CHECK_NEAR(s->soc, 32.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 41.83, 1e-4);
}

/* One frame (hex) fed in chunking c: what happened. */
static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const char *hex, const struct drive_chunking *c)
{
	bms_rx_clear(rx);
	return drive_feed_hex(poll, rx, hex, c->ch, c->n);
}

/* handle() of one frame (hex) at `step` of a fresh poll. */
static int handle_at(const char *hex, int step)
{
	struct bms_poll poll;
	uint8_t f[128];
	int n = check_hex(hex, f, (int)sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = step;
	return drv->handle(&poll, f, (size_t)(n > 0 ? n : 0));
}

/* A stream frame of PROBMS-02 with byte i set to v (and byte j to w, j >=
 * 0), its XOR recomputed. */
static const char *edited2(int i, uint8_t v, int j, uint8_t w)
{
	static char hex[256];
	uint8_t f[64];
	int n = check_hex(PROBMS_02, f, (int)sizeof(f));
	f[i] = v;
	if (j >= 0)
		f[j] = w;
	uint8_t x = 0;
	for (int k = 3; k < n - 2; k++)
		x ^= f[k];
	f[n - 2] = x;
	for (int k = 0; k < n; k++)
		snprintf(hex + 2 * k, 3, "%02x", f[k]);
	return hex;
}

static const char *edited(int i, uint8_t v)
{
	return edited2(i, v, -1, 0);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "pro-bms");
	CHECK_EQ_INT(drv->protocol_id, 51);
	CHECK(bms_find("pro-bms") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && drv->listens && drv->next_request);
	CHECK_STR(drv->ble->gatt[0].service, "0000fff0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000fff4-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000fff3-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(!drv->control && !drv->probe && !drv->ble->company && !drv->ble->auth);
	CHECK(drive_hinted("Pro BMS"));
	CHECK(!drive_hinted("Pro BMS2") && !drive_hinted("pro bms") && !drive_hinted("Pro") && !drive_hinted(""));
}

/* A fresh connection: the handshake, the first stream frame, in every
 * chunking; then a listening poll; a silent stream, then the handshake
 * again. */
static void test_handshake(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			const struct drive_chunking *c = &drive_chunkings[k];
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			uint8_t req[64];
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			CHECK(!drv->listens(&poll));
			CHECK(drive_req_is(&poll, PROBMS_REQ_INIT));
			struct drive_res r = feed(&poll, &rx, PROBMS_04, c); /* not INIT's answer: ignored */
			CHECK_EQ_INT(r.unexpected, 1);
			r = feed(&poll, &rx, PROBMS_01, c);
			CHECK_EQ_INT(r.ok, 1);
			CHECK(drive_req_is(&poll, PROBMS_REQ_HWID));
			r = feed(&poll, &rx, PROBMS_04, c); /* its machine info */
			CHECK_EQ_INT(r.ok, 1);
			CHECK(drive_req_is(&poll, PROBMS_REQ_STREAM));
			CHECK(drv->timeout(&poll)); /* unanswered: the next step */
			CHECK_EQ_INT(poll.step, PB_TRIGGER);
			CHECK(drive_req_is(&poll, PROBMS_REQ_TRIGGER));
			r = feed(&poll, &rx, PROBMS_02, c); /* the stream begins */
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
			CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			check_02(&poll.snap, inv);
			/* the next poll listens: nothing is written */
			drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
			CHECK(drv->listens(&poll));
			r = feed(&poll, &rx, PROBMS_01 PROBMS_03, c); /* a late 0x03 ignored */
			CHECK_EQ_INT(r.unexpected, 1);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			check_03(&poll.snap);
			/* the stream is silent: a failed try; its retry greets again */
			drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
			CHECK(drv->listens(&poll));
			CHECK(!drv->timeout(&poll));
			poll.attempt = 1;
			CHECK(!drv->listens(&poll));
			CHECK(drive_req_is(&poll, PROBMS_REQ_INIT));
			drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
			CHECK(!drv->listens(&poll)); /* not heard since: the next poll greets too */
			CHECK(drive_req_is(&poll, PROBMS_REQ_INIT));
		}
}

/* INIT unanswered is a failed try; 0x40 and 0x43 unanswered move on, and a
 * stream frame at any step after INIT completes the poll. */
static void test_steps(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, PROBMS_REQ_INIT));
	CHECK(!drv->timeout(&poll));
	poll.step = PB_HWID;
	CHECK(drv->timeout(&poll));
	CHECK(drv->timeout(&poll));
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(poll.step, PB_DATA);
	CHECK_EQ_INT(handle_at(PROBMS_02, PB_HWID), BMS_OK);
	CHECK_EQ_INT(handle_at(PROBMS_02, PB_STREAM), BMS_OK);
	CHECK_EQ_INT(handle_at(PROBMS_02, PB_DONE), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_at(PROBMS_04, PB_DATA), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_at(PROBMS_02, PB_INIT), BMS_E_UNEXPECTED);
	/* a poll that did not get its frame is no sample */
	poll.step = PB_DATA;
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* The framer: the edited frames fail the XOR (counted), a request echoed
 * is skipped whole, noise before a frame, a frame cut short. */
static void test_framer(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	poll.persist = 1; /* streaming: the poll listens */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(drv->listens(&poll));
	struct drive_res r = feed(&poll, &rx, EDIT_PROT EDIT_SOC0 "00ff55" PROBMS_REQ_HWID PROBMS_02, &drive_chunkings[1]);
	CHECK_EQ_INT(r.badsum, 2);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.bad_scan, 0);
	check_02(&poll.snap, false);
	uint8_t b[64];
	size_t n = 0;
	int len = check_hex(PROBMS_02, b, (int)sizeof(b));
	CHECK_EQ_INT(drv->scan(&poll, b, (size_t)len, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, 50);
	for (int i = 1; i < len; i++)
		CHECK_EQ_INT(drv->scan(&poll, b, (size_t)i, &n), BMS_SCAN_NEED);
	len = check_hex(PROBMS_REQ_TRIGGER, b, (int)sizeof(b));
	CHECK_EQ_INT(drv->scan(&poll, b, (size_t)len, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 13);
	/* truncated: the poll does not complete */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = feed(&poll, &rx, "55aa2d0480aa01701c05000096090080e2000000ad19000033", &drive_chunkings[2]);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* Frames whose check is right and whose content is not. */
static void test_broken(void)
{
	CHECK_EQ_INT(handle_at(edited(24, 101), PB_DATA), BMS_E_RANGE); /* SOC 101 */
	CHECK_EQ_INT(handle_at(edited2(8, 0, 9, 0), PB_DATA), BMS_E_RANGE); /* 0 V */
	CHECK_EQ_INT(handle_at(EDIT_PROT, PB_DATA), BMS_E_CHECKSUM);
	CHECK_EQ_INT(handle_at("55aa2c0480aa0170", PB_DATA), BMS_E_SHORT);
	CHECK_EQ_INT(handle_at("56aa080380aa01040000002c52", PB_INIT), BMS_E_HEADER);
	/* a data frame of another length (n 0x08) */
	CHECK_EQ_INT(handle_at("55aa080480aa01700000005f52", PB_DATA), BMS_E_SHORT);
	/* the protection flags: over-voltage and a short circuit, discharging */
	struct bms_poll poll;
	uint8_t f[64];
	int n = check_hex(edited(15, 0xA1), f, (int)sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = PB_DATA;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_PACK_OV | BMS_AL_SHORT);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x21);
	CHECK(poll.snap.current < 0);
	/* every flag: over-current, temperatures (OTHER), imbalance */
	n = check_hex(edited(15, 0x5E), f, (int)sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = PB_DATA;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_PACK_UV | BMS_AL_OTHER | BMS_AL_CELL_DIFF);
	CHECK(poll.snap.current > 0);
	/* below 0 degC: byte 18 not 0 */
	n = check_hex(edited(18, 0x01), f, (int)sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = PB_DATA;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_NEAR(poll.snap.temp_c[0], -22.6, 1e-4);
}

int main(void)
{
	test_table();
	test_handshake();
	test_steps();
	test_framer();
	test_broken();
	return check_report();
}
