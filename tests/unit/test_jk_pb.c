/* SPDX-License-Identifier: MIT */
/* tests/unit/test_jk_pb.c - JK-PB RS485 driver (0x1620 trigger -> 0x55AA status
 * frame + FC16 ack): the jkpb rows of tests/fixtures/vectors.tsv through
 * scan() + handle() fed in odd chunks, both orders of payload and ack,
 * several packs on one bus, whole polls, field decoding and broken input;
 * the probe of `bmsgw --detect` on device-info answers.
 * Protocol facts: bms/PROTOCOLS.md §6. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../bms/bus.h"
#include "../../bms/jkrecord.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const struct bms_driver *const drv = &bms_jk_pb_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family jkpb (JKPB_01 = row JKPB-01 ...):
 * payload (300) + 00 + ack (JKPB-01..03) or
 * payload + ack (JKPB-05/06) */
#define JKPB_01 \
	"55aaeb900200dd0cdd0cdd0cdd0cdd0cdd0cde0cdd0cde0cde0cde0cde0cde0cdd0cde0cdd0c000000000000000000000000" \
	"0000000000000000000000000000000000000000ffff0000dd0c01000100330034003f0042004d0058006600710077007100" \
	"660062005a004400400036000000000000000000000000000000000000000000000000000000000000000000cb0000000000" \
	"d7cd00000000000000000000c300c6000000000000000037535e0200c04504003e00000086b70901640000000422e5020101" \
	"0000000000000000000000000000ff00010000009703000000001671404000000000951400000001010100060000b4e3af00" \
	"00000000cb00c200c7009703863ec40b100900008051010000000302000000000000000001feff7fdc2f0101b0cf07000021" \
	"0003101620000105a9"
#define JKPB_02 \
	"55aaeb900100ac0d00008c0a0000550b0000420e0000740d000005000000750d0000540b00007a0d0000160d0000c4090000" \
	"60ea0000030000003c000000a08601002c0100003c00000005000000d00700005e010000400100005e010000400100003200" \
	"00004600000020030000bc02000010000000010000000100000001000000c0450400dc050000700d00000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000030000000000000060e316000033000a18feffffff9fe99d030000000034" \
	"000310161e00016465"
#define JKPB_03 \
	"55aaeb9003004a4b5f50423241313653323050000000313541000000000031352e34310000001c29e5021600000042423032" \
	"0000000000000000000000003132333400000000000000000000000032343039313400003430313139343931343830003030" \
	"30004a4b2d424d5300000000000000000000313336393133000000000000000000004a4b2d424d5300000000000000000000" \
	"ffffffff8fe99d0300000000901f00000000c0d8e7fe3f00000100000000000000000004ff67000000000000000000000000" \
	"0000ff0f000000000000000000000000000001ff670000000000000000000000000009080001640000005f0000003c000000" \
	"320000000000000000000000002f00000a78011e0000000000000000000000000000000000fe9fe9ff0f00000000000000f6" \
	"000310161c0001c5a5"
#define JKPB_05 \
	"55aaeb900105e40c00005a0a0000960a0000420e0000aa0d000005000000ab0d00008c0a0000ac0d0000480d0000c4090000" \
	"f04902001e0000003c000000f04902001e0000003c00000005000000d0070000580200002602000058020000260200009cff" \
	"ffffceffffffe80300002003000008000000010000000100000001000000605b0300dc050000160d00000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000010000000500000060e3160050033c3218feffffff3fe901020000000050" \
	"0110161e00016587"
#define JKPB_06 \
	"55aaeb9003054a4b5f5042324131365331355000000031352e584100000031352e3130000000450bce00c401000041545220" \
	"424d530000000000000000003132333400000000000000000000000032343035313000003331323133343830303835003030" \
	"3000000000000000000000000000000000003430393600000000000000000000000000000000000000000000000000000000" \
	"feffffff2fe9010200000000901f00000000c0d8e7fe1f00000100000000000000000100cf03000000000000000000000000" \
	"0000df07000000000000000000000000000001cf03000000000000000000000000000a000001010000000000000000000000" \
	"00000000000000000000000008070000323201000000000000000000000000000000000000fe9fe9ff07000000000000005f" \
	"0110161c0001c447"
#define JKPB_REQ_1 "031016200001020000cf91"
#define JKPB_REQ_2 "011016200001020000d6f1"
#define JKPB_REQ_A2 "021016200001020000c201"
#define JKPB_REQ_3 "0110161e0001020000d22f"
/* computed: the settings trigger of address 3 */
#define JKPB_REQ_SET3 "0310161e0001020000cb4f"

static const size_t chunks_odd[] = { 1, 1, 1, 5, 2, 7, 13, 1, 26, 3, 11, 1, 40, 64, 17, 150 };

/* random splits (deterministic) */
static uint32_t lcg = 4242;

/* The FC16 ack of register reg from address a (8 bytes). */
static void mk_ack(uint8_t *f, uint8_t a, uint16_t reg)
{
	f[0] = a;
	f[1] = 0x10;
	f[2] = (uint8_t)(reg >> 8);
	f[3] = (uint8_t)reg;
	f[4] = 0;
	f[5] = 1;
	uint16_t c = drive_crc16(f, 6);
	f[6] = (uint8_t)c;
	f[7] = (uint8_t)(c >> 8);
}

static void mk_exc(uint8_t *f, uint8_t a, uint8_t code)
{
	f[0] = a;
	f[1] = 0x90;
	f[2] = code;
	uint16_t c = drive_crc16(f, 3);
	f[3] = (uint8_t)c;
	f[4] = (uint8_t)(c >> 8);
}

/* The status payload of JKPB-01 (300 bytes). */
static void base_payload(uint8_t *p)
{
	uint8_t all[400];
	CHECK_EQ_INT(drive_hex(JKPB_01, all, sizeof(all)), 309);
	memcpy(p, all, 300);
}

static void fix_sum(uint8_t *p)
{
	unsigned s = 0;
	for (int i = 0; i < 299; i++)
		s += p[i];
	p[299] = (uint8_t)s;
}

static void put16(uint8_t *p, int off, unsigned v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, int off, uint32_t v)
{
	put16(p, off, v & 0xFFFF);
	put16(p, off + 2, v >> 16);
}

/* A poll between the gateway's refreshes, of a pack whose limits are kept
 * (KEPT_CCL / KEPT_DCL): the status step alone. */
#define KEPT_CCL 60.0f
#define KEPT_DCL 100.0f
static void pb_begin(struct bms_poll *poll, struct bms_rx *rx, uint8_t addr, uint8_t forced, bool inv)
{
	drive_begin(poll, rx, addr, forced, inv);
	poll->refresh = false;
	poll->kept.have |= BMS_HAS_CUR_LIMITS;
	poll->kept.ccl_a = KEPT_CCL;
	poll->kept.dcl_a = KEPT_DCL;
}

static const uint16_t cells_01[16] = {
	3293, 3293, 3293, 3293, 3293, 3293, 3294, 3293, 3294, 3294, 3294, 3294, 3294, 3293, 3294, 3293,
};

static void check_pb01(const struct bms_snapshot *s, bool inv)
{
	(void)inv; /* 0.000 A either way */
	drive_check_cells(s, cells_01, 16);
	CHECK_NEAR(s->voltage, 52.695, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 55.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 155.219, 1e-3);
	CHECK_NEAR(s->full_ah, 280.0, 1e-3);
	CHECK_EQ_INT(s->cycles, 62);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 20.3, 1e-4);
	CHECK_EQ_INT(s->ntemps, 4);
	CHECK_NEAR(s->temp_c[0], 19.5, 1e-4);
	CHECK_NEAR(s->temp_c[1], 19.8, 1e-4);
	CHECK_NEAR(s->temp_c[2], 19.4, 1e-4);
	CHECK_NEAR(s->temp_c[3], 19.9, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0);
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->state, 0);
	CHECK(!s->heater_on); /* 215: 0; 236: 0 mA */
	CHECK_NEAR(s->heater_a, 0.0, 1e-6);
	CHECK_EQ_INT(s->present & ~(uint32_t)BMS_HAS_HEATER_SET,
		     BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
			     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
			     BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_HEATER);
}

static void test_request(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[32], want[16], f[16];
	size_t n;

	pb_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(drive_hex(JKPB_REQ_2, want, 16), 11);
	CHECK(memcmp(req, want, 11) == 0);
	pb_begin(&poll, &rx, 3, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(drive_hex(JKPB_REQ_1, want, 16), 11);
	CHECK(memcmp(req, want, 11) == 0);
	pb_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(drive_hex(JKPB_REQ_A2, want, 16), 11);
	CHECK(memcmp(req, want, 11) == 0);
	CHECK_EQ_INT(drv->next_request(&poll, req, 10), BMS_E_NOSPACE);
	pb_begin(&poll, &rx, 0, 0, false); /* 0 = bus master: never polled */
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
	pb_begin(&poll, &rx, 16, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);

	/* for every address: the echo of the request is skipped whole, the
	 * ack is a frame (the ack's CRC never looks like the request's
	 * byte count, and the reverse) */
	for (uint8_t a = 1; a <= 15; a++) {
		pb_begin(&poll, &rx, a, 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
		for (size_t k = 0; k < 11; k++)
			if (drv->scan(&poll, req, k, &n) != BMS_SCAN_NEED) {
				CHECK(0);
				fprintf(stderr, "echo prefix %zu addr %u\n", k, a);
			}
		CHECK_EQ_INT(drv->scan(&poll, req, 11, &n), BMS_SCAN_SKIP);
		CHECK_EQ_INT(n, 11);
		mk_ack(f, a, 0x1620);
		CHECK_EQ_INT(drv->scan(&poll, f, 8, &n), BMS_SCAN_FRAME);
		CHECK_EQ_INT(n, 8);
		CHECK(f[6] != 0x02 || f[7] != 0x00);
	}

	CHECK_STR(drv->name, "jk-pb");
	CHECK_EQ_INT(drv->protocol_id, 5);
	CHECK_EQ_INT(drv->default_baud, 115200);
	CHECK_EQ_INT(drv->min_address, 1);
	CHECK_EQ_INT(drv->max_address, 15);
	CHECK(drv->gap_floor >= 0.1);
	CHECK(drv->default_timeout > 0);
	CHECK(!drv->listen_only);
	CHECK(bms_find("jk-pb") == drv);
}

static void test_vectors(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t buf[4096];
	int n;

	/* JKPB-01 (payload, 00, ack from 3) in every chunking */
	const size_t *chs[] = { chunks_one, chunks_odd, chunks_big };
	const size_t nch[] = { 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 3; k++) {
		for (int inv = 0; inv < 2; inv++) {
			pb_begin(&poll, &rx, 3, 0, inv);
			r = drive_feed_hex(&poll, &rx, JKPB_01, chs[k], nch[k]);
			CHECK_EQ_INT(r.frames, 2);
			CHECK_EQ_INT(r.more, 1);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.skipped, 1); /* the 00 separator */
			CHECK_EQ_INT(r.err + r.bad_scan, 0);
			check_pb01(&poll.snap, inv);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		}
	}
	n = drive_hex(JKPB_01, buf, sizeof(buf));
	for (int k = 0; k < 40; k++) {
		pb_begin(&poll, &rx, 3, 0, false);
		r = (struct drive_res){ 0 };
		drive_feed_random(&poll, &rx, buf, (size_t)n, &lcg, 120, &r);
		CHECK_EQ_INT(r.ok, 1);
	}
	check_pb01(&poll.snap, false);

	/* polled address 1: JKPB-01 is pack 3's answer */
	pb_begin(&poll, &rx, 1, 0, false);
	r = FEED_HEX(&poll, &rx, JKPB_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(poll.seen, 0);
	CHECK_EQ_INT(poll.snap.present, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);

	/* settings and device-info frames (and their acks) are not the answer */
	const char *other[] = { JKPB_02, JKPB_03, JKPB_05, JKPB_06 };
	const uint8_t addr[] = { 3, 3, 1, 1 };
	for (int k = 0; k < 4; k++) {
		pb_begin(&poll, &rx, addr[k], 0, false);
		r = FEED_HEX(&poll, &rx, other[k], chunks_odd);
		CHECK_EQ_INT(r.frames, 2);
		CHECK_EQ_INT(r.unexpected, 2);
		CHECK_EQ_INT(r.ok + r.more + r.err + r.bad_scan, 0);
		CHECK_EQ_INT(poll.seen, 0);
		CHECK_EQ_INT(rx.len, 0);
	}
	/* ... and a settings answer, then the status answer, merged */
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_HEX(&poll, &rx, JKPB_02 JKPB_01 "00", chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 2);
	check_pb01(&poll.snap, false);
}

/* Payload and ack in the other order, and merged in every way. */
static void test_orders(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t p[300], b[2048], ack[8], ack1[8];
	size_t n = 0;

	base_payload(p);
	mk_ack(ack, 3, 0x1620);
	mk_ack(ack1, 1, 0x1620);

	/* ack first, then the payload */
	memcpy(b, ack, 8);
	memcpy(b + 8, p, 300);
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.ok, 1);
	check_pb01(&poll.snap, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);

	/* 00 ack 00 payload 00, one byte at a time */
	n = 0;
	b[n++] = 0;
	memcpy(b + n, ack, 8), n += 8;
	b[n++] = 0;
	memcpy(b + n, p, 300), n += 300;
	b[n++] = 0;
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, n, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 3);
	check_pb01(&poll.snap, false);

	/* payload ack (mpp-solar), random splits */
	memcpy(b, p, 300);
	memcpy(b + 300, ack, 8);
	for (int k = 0; k < 30; k++) {
		pb_begin(&poll, &rx, 3, 0, false);
		r = (struct drive_res){ 0 };
		drive_feed_random(&poll, &rx, b, 308, &lcg, 120, &r);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, 0);
	}
	check_pb01(&poll.snap, false);

	/* a shared bus: pack 1's late answer (payload, ack 1), then pack 3's;
	 * pack 1's payload differs in its voltage */
	uint8_t p1[300];
	memcpy(p1, p, 300);
	put32(p1, 150, 48000);
	fix_sum(p1);
	n = 0;
	memcpy(b + n, p1, 300), n += 300;
	b[n++] = 0;
	memcpy(b + n, ack1, 8), n += 8;
	b[n++] = 0;
	memcpy(b + n, p, 300), n += 300;
	memcpy(b + n, ack, 8), n += 8;
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, n, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.more, 2);
	CHECK_EQ_INT(r.unexpected, 1);
	check_pb01(&poll.snap, false);
	/* polling pack 1 on the same bytes: its own */
	pb_begin(&poll, &rx, 1, 0, false);
	r = FEED_BYTES(&poll, &rx, b, n, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.voltage, 48.0, 1e-4);
	CHECK_EQ_INT(r.unexpected, 2); /* pack 3's payload after the poll, and its ack */

	/* two payloads before our ack: the later one is ours */
	n = 0;
	memcpy(b + n, p1, 300), n += 300;
	memcpy(b + n, p, 300), n += 300;
	memcpy(b + n, ack, 8), n += 8;
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	check_pb01(&poll.snap, false);

	/* our ack twice, then the payload: one poll */
	n = 0;
	memcpy(b + n, ack, 8), n += 8;
	memcpy(b + n, ack, 8), n += 8;
	memcpy(b + n, p, 300), n += 300;
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, n, chunks_odd);
	CHECK_EQ_INT(r.more, 2);
	CHECK_EQ_INT(r.ok, 1);

	/* an ack of another register (settings trigger) from our pack is not ours */
	mk_ack(b, 3, 0x161E);
	memcpy(b + 8, p, 300);
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* the timeout does not complete a payload without its ack */
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

static int decode(struct bms_poll *poll, const uint8_t *p, uint8_t forced, bool inv)
{
	struct bms_rx rx;
	uint8_t ack[8];
	size_t n;
	int rc;

	pb_begin(poll, &rx, 5, forced, inv);
	CHECK_EQ_INT(drv->scan(poll, p, 300, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, 300);
	CHECK_EQ_INT(drv->handle(poll, p, 300), BMS_MORE);
	mk_ack(ack, 5, 0x1620);
	rc = drv->handle(poll, ack, 8);
	CHECK_EQ_INT(rc, BMS_OK);
	return drv->finish(poll);
}

static void test_fields(void)
{
	struct bms_poll poll = { 0 };
	uint8_t p[300], q[300];

	base_payload(p);

	/* current sign, 1 mA steps; invert */
	memcpy(q, p, 300);
	put32(q, 158, (uint32_t)-12345);
	put32(q, 150, 51234);
	fix_sum(q);
	CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_OK);
	CHECK_NEAR(poll.snap.current, -12.345, 1e-4);
	CHECK_NEAR(poll.snap.voltage, 51.234, 1e-4);
	CHECK_EQ_INT(decode(&poll, q, 0, true), BMS_OK);
	CHECK_NEAR(poll.snap.current, 12.345, 1e-4);
	put32(q, 158, 150000);
	fix_sum(q);
	CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_OK);
	CHECK_NEAR(poll.snap.current, 150.0, 1e-3);
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(poll.snap.power, 51.234 * 150.0, 0.1);

	/* negative temperatures: two's complement 0.1 degC */
	memcpy(q, p, 300);
	put16(q, 144, (uint16_t)-55);
	put16(q, 162, (uint16_t)-50);
	put16(q, 164, (uint16_t)-400);
	put16(q, 256, 0);
	put16(q, 258, 655);
	fix_sum(q);
	CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_OK);
	CHECK_NEAR(poll.snap.mos_temp_c, -5.5, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[0], -5.0, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[1], -40.0, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[2], 0.0, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[3], 65.5, 1e-4);

	/* sensor-present bits: absent sensors are left out, in order */
	static const struct {
		uint8_t bits;
		int ntemps;
		float first;
		bool mos;
	} sens[] = {
		{ 0x00, 0, 0, false }, { 0x01, 0, 0, true }, { 0x02, 1, 19.5f, false },
		{ 0x04, 1, 19.8f, false }, { 0x18, 2, 19.4f, false }, { 0x1F, 4, 19.5f, true },
		{ 0x10, 1, 19.9f, false }, { 0x20, 0, 0, false }, { 0xE0, 0, 0, false },
	};
	for (size_t k = 0; k < sizeof(sens) / sizeof(sens[0]); k++) {
		memcpy(q, p, 300);
		q[214] = sens[k].bits;
		fix_sum(q);
		CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_OK);
		CHECK_EQ_INT(poll.snap.ntemps, sens[k].ntemps);
		CHECK_EQ_INT(!!(poll.snap.present & BMS_HAS_TEMPS), sens[k].ntemps > 0);
		CHECK_EQ_INT(!!(poll.snap.present & BMS_HAS_MOS_TEMP), sens[k].mos);
		if (sens[k].ntemps)
			CHECK_NEAR(poll.snap.temp_c[0], sens[k].first, 1e-4);
	}

	/* cell mask: gaps are closed up; 0 cells is no sample */
	memcpy(q, p, 300);
	put32(q, 70, 0x5);
	put16(q, 6 + 2 * 2, 3111);
	fix_sum(q);
	CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 2);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3293);
	CHECK_EQ_INT(poll.snap.cell_mv[1], 3111);
	CHECK_EQ_INT(poll.snap.cell_mv[2], 0);
	put32(q, 70, 0xFFFFFFFFu);
	fix_sum(q);
	CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 32);
	put32(q, 70, 0);
	fix_sum(q);
	CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_E_INVALID);
	/* a forced count takes the first N slots */
	CHECK_EQ_INT(decode(&poll, q, 3, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[2], 3111);
	CHECK_EQ_INT(decode(&poll, p, 40, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 32);
	CHECK_EQ_INT(poll.snap.cell_mv[15], 3293);
	CHECK_EQ_INT(poll.snap.cell_mv[16], 0);

	/* 0 V is no sample; SOC/SOH above 100 clamp; negative remaining is absent */
	memcpy(q, p, 300);
	put32(q, 150, 0);
	fix_sum(q);
	CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_E_INVALID);
	memcpy(q, p, 300);
	q[173] = 130;
	q[190] = 255;
	put32(q, 174, (uint32_t)-1000);
	q[198] = 0;
	q[199] = 2;
	fix_sum(q);
	CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_OK);
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-6);
	CHECK_NEAR(poll.snap.soh, 100.0, 1e-6);
	CHECK(!(poll.snap.present & BMS_HAS_REMAIN));
	CHECK(!poll.snap.chg_mos && poll.snap.dsg_mos);
	/* 32-bit cycles */
	put32(q, 182, 70000);
	fix_sum(q);
	CHECK_EQ_INT(decode(&poll, q, 0, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.cycles, 70000);
}

static void test_alarms(void)
{
	static const uint32_t map[32] = {
		BMS_AL_HW_FAULT, BMS_AL_MOS_OT | BMS_AL_PROTECTION, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT,
		BMS_AL_CELL_OV | BMS_AL_PROTECTION, BMS_AL_PACK_OV | BMS_AL_PROTECTION,
		BMS_AL_CHG_OC | BMS_AL_PROTECTION, BMS_AL_SHORT | BMS_AL_PROTECTION,
		BMS_AL_CHG_OT | BMS_AL_PROTECTION, BMS_AL_CHG_UT | BMS_AL_PROTECTION, BMS_AL_COMM,
		BMS_AL_CELL_UV | BMS_AL_PROTECTION, BMS_AL_PACK_UV | BMS_AL_PROTECTION,
		BMS_AL_DSG_OC | BMS_AL_PROTECTION, BMS_AL_SHORT | BMS_AL_PROTECTION,
		BMS_AL_DSG_OT | BMS_AL_PROTECTION, BMS_AL_MOS_FAULT, BMS_AL_MOS_FAULT, BMS_AL_OTHER,
		BMS_AL_OTHER, BMS_AL_MOS_FAULT, BMS_AL_CHG_OT | BMS_AL_DSG_OT, BMS_AL_SENSOR,
		BMS_AL_HW_FAULT,
	};
	struct bms_poll poll = { 0 };
	uint8_t p[300];

	base_payload(p);
	for (unsigned bit = 0; bit < 32; bit++) {
		put32(p, 166, 1u << bit);
		fix_sum(p);
		CHECK_EQ_INT(decode(&poll, p, 0, false), BMS_OK);
		if (poll.snap.alarms != map[bit])
			fprintf(stderr, "alarm bit %u\n", bit);
		CHECK_EQ_INT(poll.snap.alarms, map[bit]);
		CHECK_EQ_INT(poll.snap.raw_alarms[0], (1u << bit) & 0xFFFF);
		CHECK_EQ_INT(poll.snap.raw_alarms[1], (1u << bit) >> 16);
		CHECK_EQ_INT(poll.snap.nraw, 2);
	}
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t p[300], q[300], b[2048], ack[8], f[16];
	size_t n, len;

	base_payload(p);
	mk_ack(ack, 3, 0x1620);

	/* every prefix of a payload needs more */
	pb_begin(&poll, &rx, 3, 0, false);
	for (size_t k = 0; k < 300; k++)
		if (drv->scan(&poll, p, k, &n) != BMS_SCAN_NEED) {
			CHECK(0);
			fprintf(stderr, "payload prefix %zu\n", k);
			break;
		}
	for (size_t k = 0; k < 8; k++)
		CHECK_EQ_INT(drv->scan(&poll, ack, k, &n), BMS_SCAN_NEED);

	/* bad sum: skipped, handle() says so */
	memcpy(q, p, 300);
	q[299] ^= 1;
	CHECK_EQ_INT(drv->scan(&poll, q, 300, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(drv->handle(&poll, q, 300), BMS_E_CHECKSUM);
	q[299] ^= 1;
	q[5] ^= 0x40;
	CHECK_EQ_INT(drv->scan(&poll, q, 300, &n), BMS_SCAN_BADSUM);
	/* bad ack CRC, bad exception CRC */
	memcpy(f, ack, 8);
	f[7] ^= 1;
	CHECK_EQ_INT(drv->scan(&poll, f, 8, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(drv->handle(&poll, f, 8), BMS_E_CHECKSUM);
	mk_exc(f, 3, 2);
	f[4] ^= 1;
	CHECK_EQ_INT(drv->scan(&poll, f, 5, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(drv->handle(&poll, f, 5), BMS_E_CHECKSUM);
	/* the FT232R damage: header 55 A0, and a payload cut short */
	memcpy(q, p, 300);
	q[1] = 0xA0;
	CHECK_EQ_INT(drv->scan(&poll, q, 300, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 4); /* to the type byte 02, a possible address */
	q[1] = 0xAA;
	q[4] = 7; /* no such frame type */
	CHECK_EQ_INT(drv->scan(&poll, q, 5, &n), BMS_SCAN_SKIP);
	/* truncated answer (288 of 300 bytes, then the ack), then the retry's
	 * whole answer: the retry is taken */
	len = 0;
	memcpy(b + len, p, 288), len += 288;
	memcpy(b + len, ack, 8), len += 8;
	memcpy(b + len, p, 300), len += 300;
	memcpy(b + len, ack, 8), len += 8;
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, len, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	check_pb01(&poll.snap, false);
	/* wrong lengths / layouts in handle() */
	CHECK_EQ_INT(drv->handle(&poll, p, 299), BMS_E_HEADER);
	CHECK_EQ_INT(drv->handle(&poll, p, 3), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)"\x20\x10\x16\x20\x00\x01\x00\x00", 8), BMS_E_HEADER);

	/* exception from our pack fails the try; from another it is ignored */
	pb_begin(&poll, &rx, 3, 0, false);
	mk_exc(f, 3, 2);
	CHECK_EQ_INT(drv->scan(&poll, f, 5, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, 5);
	CHECK_EQ_INT(drv->handle(&poll, f, 5), BMS_E_REFUSED);
	mk_exc(f, 4, 2);
	CHECK_EQ_INT(drv->handle(&poll, f, 5), BMS_E_UNEXPECTED);

	/* echo of the request, separators, garbage, then the answer */
	len = 0;
	CHECK_EQ_INT(drive_hex(JKPB_REQ_1, b, 16), 11);
	len = 11;
	memcpy(b + len, "\x00\xff\xfe\x55\x00\x03\x10\x17\x00\x55\xaa\xeb\x91", 13), len += 13;
	memcpy(b + len, p, 300), len += 300;
	b[len++] = 0;
	memcpy(b + len, ack, 8), len += 8;
	b[len++] = 0;
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, len, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.skipped, 11 + 13 + 2);
	CHECK_EQ_INT(rx.len, 0);
	/* other Modbus traffic (FC03 from a second master) is skipped */
	CHECK_EQ_INT(drive_hex("010312900002c15e", f, 16), 8);
	CHECK_EQ_INT(drv->scan(&poll, f, 8, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);

	/* nothing is taken after the poll, and finish() refuses an incomplete one */
	CHECK_EQ_INT(drv->handle(&poll, p, 300), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->handle(&poll, ack, 8), BMS_E_UNEXPECTED);
	uint8_t req[16];
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	pb_begin(&poll, &rx, 3, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, p, 300), BMS_MORE);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);

	/* overflowing the rx buffer with garbage breaks nothing */
	uint8_t junk[5000];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)(k % 11 == 0 ? 0x55 : k % 11 == 1 ? 0xAA : k % 5 == 0 ? 3 : k * 29 + (k >> 3));
	pb_begin(&poll, &rx, 3, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_big, 1, &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_odd, DRIVE_NCH(chunks_odd), &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(r.ok, 0);
	bms_rx_clear(&rx);
	r = FEED_HEX(&poll, &rx, JKPB_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
}

/* Whole polls of three packs on one bus, one after the other. */
static void test_bus(void)
{
	struct bms_poll polls[3];
	struct bms_rx rx = { 0 };
	uint8_t p[300], b[1024], req[16];
	const uint8_t addrs[3] = { 1, 7, 15 };

	base_payload(p);
	memset(polls, 0, sizeof(polls));
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < 3; k++) {
			struct bms_poll *poll = &polls[k];
			pb_begin(poll, &rx, addrs[k], 0, false);
			CHECK_EQ_INT(drv->next_request(poll, req, sizeof(req)), 11);
			CHECK_EQ_INT(req[0], addrs[k]);
			/* each pack's answer carries its own voltage */
			uint8_t q[300];
			memcpy(q, p, 300);
			put32(q, 150, 50000u + addrs[k]);
			fix_sum(q);
			size_t len = 0;
			if (round) { /* the previous pack's late ack is still on the wire */
				mk_ack(b, addrs[(k + 2) % 3], 0x1620);
				len = 8;
			}
			memcpy(b + len, q, 300), len += 300;
			b[len++] = 0;
			mk_ack(b + len, addrs[k], 0x1620), len += 8;
			struct drive_res r = FEED_BYTES(poll, &rx, b, len, chunks_odd);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(drv->next_request(poll, req, sizeof(req)), 0);
			CHECK_EQ_INT(drv->finish(poll), BMS_OK);
			CHECK_NEAR(poll->snap.voltage, (50000.0 + addrs[k]) / 1000.0, 1e-4);
		}
	}
}

/* The device-info step of address a's poll, answered with the recorded
 * record of JKPB-06 (address 1: hardware 15.XA, software 15.10: the
 * heater follows the charge UTP) or JKPB-03 (else: 15A, 15.41: heating
 * temperatures of its own) and a's ack. */
static bool answer_info(struct bms_poll *poll, struct bms_rx *rx, uint8_t a)
{
	uint8_t b[320];
	CHECK_EQ_INT(drive_hex(a == 1 ? JKPB_06 : JKPB_03, b, sizeof(b)), a == 1 ? 308 : 309);
	mk_ack(b + 300, a, 0x161C);
	struct drive_res r = FEED_BYTES(poll, rx, b, 308, chunks_odd);
	bms_rx_clear(rx);
	return r.ok == 1 && r.more == 1;
}

/* A fresh poll (refresh, as the gateway's first) of address a whose status
 * step is answered with JKPB-01's payload, and the device-info step where
 * it is due (the first poll of a pack: answer_info()): the settings step
 * is due.  Another address is another pack: nothing kept. */
static bool to_settings(struct bms_poll *poll, struct bms_rx *rx, uint8_t a)
{
	uint8_t p[300], b[320], req[16];
	base_payload(p);
	if (poll->address != a)
		memset(poll, 0, sizeof(*poll));
	drive_begin(poll, rx, a, 0, false);
	memcpy(b, p, 300);
	mk_ack(b + 300, a, 0x1620);
	struct drive_res r = FEED_BYTES(poll, rx, b, 308, chunks_odd);
	bms_rx_clear(rx);
	if (r.ok != 1 || drv->next_request(poll, req, sizeof(req)) != 11)
		return false;
	if (req[2] == 0x16 && req[3] == 0x1C && (!answer_info(poll, rx, a) || drv->next_request(poll, req, sizeof(req)) != 11))
		return false;
	return req[2] == 0x16 && req[3] == 0x1E;
}

/* The settings step: the recorded settings frames in every chunking, the
 * switches gating the limits, the limits kept for the polls between. */
/* The BMS's settings of JKPB-02 (c = 0) and JKPB-05 (c = 1), in
 * poll.kept.settings after a settings step (bms/PROTOCOLS.md §6.7). */
static void check_bms_settings(size_t c, const struct bms_settings *st)
{
	static const struct {
		enum bms_set_key k;
		float v[2];
	} want[] = {
		{ BMS_SET_CELL_UVP_V, { 2.700f, 2.650f } },
		{ BMS_SET_CELL_UVP_RELEASE_V, { 2.901f, 2.710f } },
		{ BMS_SET_CELL_OVP_V, { 3.650f, 3.650f } },
		{ BMS_SET_CELL_OVP_RELEASE_V, { 3.444f, 3.498f } },
		{ BMS_SET_BALANCE_DELTA_V, { 0.005f, 0.005f } },
		{ BMS_SET_POWER_OFF_V, { 2.5f, 2.5f } },
		{ BMS_SET_CHARGE_OCP_A, { 60.0f, 150.0f } },
		{ BMS_SET_CHARGE_OCP_DELAY_S, { 3.0f, 30.0f } },
		{ BMS_SET_CHARGE_OCP_RELEASE_S, { 60.0f, 60.0f } },
		{ BMS_SET_DISCHARGE_OCP_A, { 100.0f, 150.0f } },
		{ BMS_SET_DISCHARGE_OCP_DELAY_S, { 300.0f, 30.0f } },
		{ BMS_SET_DISCHARGE_OCP_RELEASE_S, { 60.0f, 60.0f } },
		{ BMS_SET_SHORT_CIRCUIT_RELEASE_S, { 5.0f, 5.0f } },
		{ BMS_SET_BALANCE_CURRENT_A, { 2.0f, 2.0f } },
		{ BMS_SET_CHARGE_OTP_C, { 35.0f, 60.0f } },
		{ BMS_SET_CHARGE_OTP_RELEASE_C, { 32.0f, 55.0f } },
		{ BMS_SET_DISCHARGE_OTP_C, { 35.0f, 60.0f } },
		{ BMS_SET_DISCHARGE_OTP_RELEASE_C, { 32.0f, 55.0f } },
		{ BMS_SET_CHARGE_UTP_C, { 5.0f, -10.0f } },
		{ BMS_SET_CHARGE_UTP_RELEASE_C, { 7.0f, -5.0f } },
		{ BMS_SET_MOS_OTP_C, { 80.0f, 100.0f } },
		{ BMS_SET_MOS_OTP_RELEASE_C, { 70.0f, 80.0f } },
		{ BMS_SET_CELL_COUNT, { 16.0f, 8.0f } },
		{ BMS_SET_CAPACITY_AH, { 280.0f, 220.0f } },
		{ BMS_SET_SHORT_CIRCUIT_DELAY_S, { 0.0015f, 0.0015f } },
		{ BMS_SET_BALANCE_START_V, { 3.440f, 3.350f } },
		{ BMS_SET_BALANCER, { 1.0f, 1.0f } }, /* 126, "BalanEN" */
		/* 282 bit 0; 284 / 285 on 15A 15.41 (JKPB-03), the charge
		 * UTP and its release on 15.XA 15.10 (JKPB-06) */
		{ BMS_SET_HEATER, { 0.0f, 0.0f } },
		{ BMS_SET_HEAT_START_C, { 0.0f, -10.0f } },
		{ BMS_SET_HEAT_STOP_C, { 10.0f, -5.0f } },
	};
	uint64_t have = 0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!bms_settings_has(st, want[i].k))
			fprintf(stderr, "FAIL settings %zu: no key %d\n", c, (int)want[i].k);
		CHECK(bms_settings_has(st, want[i].k));
		CHECK_NEAR(st->v[want[i].k], want[i].v[c], 1e-5);
		have |= (uint64_t)1 << want[i].k;
	}
	CHECK(st->have == have); /* nothing else: the record has no pack OVP, no SCP current */
	CHECK(drv->settings == have); /* what discovery announces */
	CHECK(bms_jk_ble_driver.settings == (have & ~(uint64_t)JK_RECORD_HEAT_SETTINGS)); /* no heater */
}

static void test_settings(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t req[32], want[16];

	/* the requests: 0x161E (JKPB-REQ-3 for address 1) */
	CHECK(to_settings(&poll, &rx, 1));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(drive_hex(JKPB_REQ_3, want, 16), 11);
	CHECK(memcmp(req, want, 11) == 0);
	CHECK(to_settings(&poll, &rx, 3));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(drive_hex(JKPB_REQ_SET3, want, 16), 11);
	CHECK(memcmp(req, want, 11) == 0);

	/* JKPB-02 (address 3: 60 / 100 A) and JKPB-05 (address 1: 150 / 150 A),
	 * both switches on */
	static const struct {
		const char *hex;
		uint8_t addr;
		float ccl, dcl;
	} caps[] = { { JKPB_02, 3, 60.0f, 100.0f }, { JKPB_05, 1, 150.0f, 150.0f } };
	const size_t *chs[] = { chunks_one, chunks_odd, chunks_big };
	const size_t nch[] = { 1, DRIVE_NCH(chunks_odd), 1 };
	for (size_t c = 0; c < 2; c++) {
		for (int k = 0; k < 4; k++) {
			CHECK(to_settings(&poll, &rx, caps[c].addr));
			poll.setpoints = k & 1;
			if (k < 3) {
				r = drive_feed_hex(&poll, &rx, caps[c].hex, chs[k], nch[k]);
			} else {
				uint8_t b[400];
				int n = drive_hex(caps[c].hex, b, sizeof(b));
				r = (struct drive_res){ 0 };
				drive_feed_random(&poll, &rx, b, (size_t)n, &lcg, 97, &r);
			}
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.more, 1);
			CHECK_EQ_INT(r.err + r.bad_scan + r.unexpected, 0);
			CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			const struct bms_snapshot *s = &poll.snap;
			CHECK(s->present & BMS_HAS_CUR_LIMITS);
			CHECK_NEAR(s->bms_ccl_a, caps[c].ccl, 1e-3);
			CHECK_NEAR(s->bms_dcl_a, caps[c].dcl, 1e-3);
			CHECK(!(s->present & BMS_HAS_VOLT_LIMITS));
			CHECK_EQ_INT(!!(s->present & BMS_HAS_SETPOINT), k & 1);
			if (k & 1)
				CHECK(s->chg_set && s->dsg_set);
			CHECK(poll.kept.have & BMS_HAS_CUR_LIMITS);
			CHECK_NEAR(poll.kept.ccl_a, caps[c].ccl, 1e-3);
			check_bms_settings(c, &poll.kept.settings);
			/* the status data of the first step is still there */
			struct bms_snapshot st = *s;
			st.present &= ~(uint32_t)(BMS_HAS_CUR_LIMITS | BMS_HAS_SETPOINT);
			check_pb01(&st, false);
		}
	}

	/* the next poll without refresh: status only, the kept limits */
	uint8_t p[300], b[700];
	base_payload(p);
	bms_poll_begin(&poll, 3, 0, false);
	memcpy(b, p, 300);
	mk_ack(b + 300, 3, 0x1620);
	r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 150.0, 1e-3); /* JKPB-05's, kept */
	CHECK_NEAR(poll.snap.bms_dcl_a, 150.0, 1e-3);
	/* ... and with control (setpoints) the settings are read every poll */
	bms_poll_begin(&poll, 3, 0, false);
	poll.setpoints = true;
	r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(req[3], 0x1E);

	/* the switches: off reads 0 A for that direction */
	uint8_t set[400];
	int sn = drive_hex(JKPB_02, set, sizeof(set));
	CHECK_EQ_INT(sn, 309);
	static const struct {
		uint8_t chg, dsg;
		float ccl, dcl;
	} sw[] = { { 0, 1, 0.0f, 100.0f }, { 1, 0, 60.0f, 0.0f }, { 0, 0, 0.0f, 0.0f } };
	for (size_t k = 0; k < 3; k++) {
		uint8_t q[400];
		memcpy(q, set, (size_t)sn);
		q[118] = sw[k].chg;
		q[122] = sw[k].dsg;
		fix_sum(q);
		CHECK(to_settings(&poll, &rx, 3));
		poll.setpoints = true;
		r = FEED_BYTES(&poll, &rx, q, (size_t)sn, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK_NEAR(poll.snap.bms_ccl_a, sw[k].ccl, 1e-3);
		CHECK_NEAR(poll.snap.bms_dcl_a, sw[k].dcl, 1e-3);
		CHECK_EQ_INT(poll.snap.chg_set, sw[k].chg);
		CHECK_EQ_INT(poll.snap.dsg_set, sw[k].dsg);
	}

	/* impossible limits (above 1000 A): none reported, none kept, asked on
	 * refresh polls only; the switches still count */
	for (int which = 0; which < 2; which++) {
		uint8_t q[400];
		memcpy(q, set, (size_t)sn);
		put32(q, which ? 62 : 50, 1000001u);
		fix_sum(q);
		CHECK(to_settings(&poll, &rx, 3));
		poll.setpoints = true;
		r = FEED_BYTES(&poll, &rx, q, (size_t)sn, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
		CHECK(!(poll.kept.have & BMS_HAS_CUR_LIMITS));
		CHECK(poll.snap.present & BMS_HAS_SETPOINT);
		bms_poll_begin(&poll, 3, 0, false);
		r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	}
	/* 1000 A exactly is still a limit */
	{
		uint8_t q[400];
		memcpy(q, set, (size_t)sn);
		put32(q, 50, 1000000u);
		fix_sum(q);
		CHECK(to_settings(&poll, &rx, 3));
		r = FEED_BYTES(&poll, &rx, q, (size_t)sn, chunks_big);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_NEAR(poll.snap.bms_ccl_a, 1000.0, 1e-3);
	}
}

/* Broken and foreign answers in the settings step; a pack that never
 * answers it. */
/* jk_record_settings(): a field outside its range is absent, the others
 * stay; negative temperatures are signed. */
static void test_bms_settings_range(void)
{
	uint8_t p[400];
	struct bms_settings st;
	CHECK_EQ_INT(drive_hex(JKPB_02, p, sizeof(p)), 309); /* payload, 00, ack */
	memset(&st, 0xA5, sizeof(st));
	jk_record_settings(p, &st);
	jk_record_heat_settings(p, JK_HEAT_OWN, &st);
	check_bms_settings(0, &st);
	p[18] = p[19] = 0; /* cell OVP 0 mV: absent */
	p[50 + 3] = 0x10;  /* max charge current > 1000 A: absent */
	p[114] = 33;       /* 33 cells: absent */
	p[82] = 0x30; p[83] = 0xF8; p[84] = p[85] = 0xFF; /* charge OTP -200.0 degC: absent */
	p[98] = 0x9C; p[99] = 0xFF; p[100] = p[101] = 0xFF; /* charge UTP -10.0 degC */
	jk_record_settings(p, &st);
	CHECK(!bms_settings_has(&st, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(&st, BMS_SET_CHARGE_OCP_A));
	CHECK(!bms_settings_has(&st, BMS_SET_CELL_COUNT));
	CHECK(!bms_settings_has(&st, BMS_SET_CHARGE_OTP_C));
	CHECK(bms_settings_has(&st, BMS_SET_CHARGE_UTP_C));
	CHECK_NEAR(st.v[BMS_SET_CHARGE_UTP_C], -10.0, 1e-5);
	CHECK(bms_settings_has(&st, BMS_SET_DISCHARGE_OCP_A));
	memset(p, 0, 300);
	jk_record_settings(p, &st);
	/* an all-zero record: only the keys whose 0 is a value (currents,
	 * delays, temperatures) */
	CHECK(!bms_settings_has(&st, BMS_SET_CELL_UVP_V));
	CHECK(!bms_settings_has(&st, BMS_SET_CAPACITY_AH));
	CHECK(bms_settings_has(&st, BMS_SET_MOS_OTP_C));
	/* the vocabulary */
	CHECK(strcmp(bms_settings_name(BMS_SET_CELL_OVP_V), "cell_ovp_v") == 0);
	CHECK(strcmp(bms_settings_unit(BMS_SET_CHARGE_OTP_C), "\xc2\xb0" "C") == 0);
	CHECK(bms_settings_name(BMS_SET_COUNT) == NULL);
	for (int k = 0; k < BMS_SET_COUNT; k++)
		CHECK(bms_settings_name((enum bms_set_key)k) && bms_settings_unit((enum bms_set_key)k));
	bms_settings_put(&st, BMS_SET_COUNT, 1.0f); /* ignored */
}

static void test_settings_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t set[400], q[800], p[300], ack[8];
	size_t n;
	int sn = drive_hex(JKPB_02, set, sizeof(set));

	base_payload(p);
	/* bad sum: skipped; the good one after it counts */
	memcpy(q, set, (size_t)sn);
	q[299] ^= 0x01;
	CHECK_EQ_INT(drv->scan(&poll, q, 300, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	memcpy(q + sn, set, (size_t)sn);
	CHECK(to_settings(&poll, &rx, 3));
	r = FEED_BYTES(&poll, &rx, q, 2 * (size_t)sn, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(r.badsum >= 1);
	CHECK_NEAR(poll.snap.bms_ccl_a, 60.0, 1e-3);
	/* truncated: waits for the rest; cut short and followed by a whole one */
	for (size_t k = 0; k < 300; k += 37)
		CHECK_EQ_INT(drv->scan(&poll, set, k, &n), BMS_SCAN_NEED);
	memcpy(q, set, 150);
	memcpy(q + 150, set, (size_t)sn);
	CHECK(to_settings(&poll, &rx, 3));
	r = FEED_BYTES(&poll, &rx, q, 150 + (size_t)sn, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.bms_dcl_a, 100.0, 1e-3);

	/* the status frame and its ack are not the settings answer */
	CHECK(to_settings(&poll, &rx, 3));
	memcpy(q, p, 300);
	mk_ack(q + 300, 3, 0x1620);
	r = FEED_BYTES(&poll, &rx, q, 308, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 2);
	CHECK_EQ_INT(r.ok + r.more, 0);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	/* a settings frame in the status step is not the status answer */
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_HEX(&poll, &rx, JKPB_02, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 2);
	CHECK_EQ_INT(poll.snap.present, 0);
	/* another pack's settings (its ack after the payload) are dropped */
	CHECK(to_settings(&poll, &rx, 1));
	memset(&poll.kept.settings, 0, sizeof(poll.kept.settings));
	r = FEED_HEX(&poll, &rx, JKPB_02, chunks_odd); /* pack 3's */
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.unexpected, 1);
	mk_ack(ack, 1, 0x161E);
	r = FEED_BYTES(&poll, &rx, ack, 8, chunks_one);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	CHECK(poll.kept.settings.have == 0); /* nor its BMS settings */
	CHECK(poll.set_read.have == 0);
	/* our pack refuses the trigger */
	uint8_t e[5];
	mk_exc(e, 3, 0x02);
	CHECK(to_settings(&poll, &rx, 3));
	CHECK_EQ_INT(drv->handle(&poll, e, 5), BMS_E_REFUSED);

	/* never answered: the try ends the step without limits; asked again
	 * on refresh polls only */
	memset(&poll, 0, sizeof(poll));
	CHECK(to_settings(&poll, &rx, 3));
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, q, sizeof(q)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	bms_poll_begin(&poll, 3, 0, false);
	memcpy(q, p, 300);
	mk_ack(q + 300, 3, 0x1620);
	r = FEED_BYTES(&poll, &rx, q, 308, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->next_request(&poll, q + 400, 32), 0);
	/* answered once: a timeout is a failed try like any other */
	CHECK(to_settings(&poll, &rx, 3));
	r = FEED_HEX(&poll, &rx, JKPB_02, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(to_settings(&poll, &rx, 3));
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* The device-info record JKPB-03 / -06 with hardware hw and software sw
 * (8 characters each at 22 / 30) into f (300 bytes). */
static void info_with(uint8_t *f, const char *hw, const char *sw)
{
	uint8_t b[320];
	CHECK_EQ_INT(drive_hex(JKPB_03, b, sizeof(b)), 309);
	memcpy(f, b, 300);
	memset(f + 22, 0, 16);
	memcpy(f + 22, hw, strlen(hw));
	memcpy(f + 30, sw, strlen(sw));
	fix_sum(f);
}

/* The heater (bms/PROTOCOLS.md §6.9): its state and current in every
 * status, its settings with the others; the device info says where the
 * heating temperatures are, asked once before the first settings read. */
static void test_heater(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t p[300], f[300], q[400], req[16], b[700], want9[16];
	static const struct {
		const char *hw, *sw;
		int temps;
	} fw[] = {
		{ "15A", "15.41", JK_HEAT_OWN }, { "15A", "15.40", JK_HEAT_UTP }, { "15A", "V15.5", JK_HEAT_OWN },
		{ "16A", "16.01", JK_HEAT_OWN }, { "19A", "19.27", JK_HEAT_OWN }, { "15.XA", "15.10", JK_HEAT_UTP },
		{ "14A", "14.20", JK_HEAT_UTP }, { "15A", "", JK_HEAT_UTP },	      { "", "15.41", JK_HEAT_UNKNOWN },
	};
	for (size_t k = 0; k < sizeof(fw) / sizeof(fw[0]); k++) {
		info_with(f, fw[k].hw, fw[k].sw);
		CHECK_EQ_INT(jk_record_heat_temps(f), fw[k].temps);
	}
	CHECK_EQ_INT(drive_hex(JKPB_06, b, sizeof(b)), 308);
	CHECK_EQ_INT(jk_record_heat_temps(b), JK_HEAT_UTP);
	/* the acknowledgement of a write of 0x1114 is a frame to the scanner
	 * (the writer's answer() takes it: test_setwrite.c) */
	size_t an;
	CHECK_EQ_INT(drive_hex("01 10 11 14 00 02 04 f0", want9, sizeof(want9)), 8);
	CHECK_EQ_INT(drv->scan(&poll, want9, 8, &an), BMS_SCAN_FRAME);
	CHECK_EQ_INT(an, 8);

	/* the status: 215 on, 236..237 mA */
	base_payload(p);
	p[215] = 1;
	put16(p, 236, 1234);
	fix_sum(p);
	CHECK_EQ_INT(decode(&poll, p, 0, false), BMS_OK);
	CHECK(poll.snap.present & BMS_HAS_HEATER);
	CHECK(poll.snap.heater_on);
	CHECK_NEAR(poll.snap.heater_a, 1.234, 1e-6);
	CHECK(!(poll.snap.present & BMS_HAS_HEATER_SET)); /* no settings read yet */

	/* the device-info trigger (0x161C), then the settings: JKPB-02's with
	 * 282 bit 0 set, the temperatures of 284 / 285 (15A 15.41) */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 3, 0, false);
	memcpy(b, p, 300);
	mk_ack(b + 300, 3, 0x1620);
	r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(drive_hex("0310161c0001020000", want9, 9), 9);
	CHECK(memcmp(req, want9, 9) == 0);
	CHECK(answer_info(&poll, &rx, 3));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(req[3], 0x1E);
	int sn = drive_hex(JKPB_02, q, sizeof(q));
	q[282] |= 0x01;
	q[284] = (uint8_t)-5;
	fix_sum(q);
	r = FEED_BYTES(&poll, &rx, q, (size_t)sn, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(poll.snap.present & BMS_HAS_HEATER_SET);
	CHECK(poll.snap.heater_enabled);
	CHECK_NEAR(poll.snap.heat_start_c, -5.0, 1e-6);
	CHECK_NEAR(poll.snap.heat_stop_c, 10.0, 1e-6);
	CHECK(poll.snap.heater_on);
	/* the next polls: status alone, the settings kept, the info not asked */
	pb_begin(&poll, &rx, 3, 0, false);
	poll.refresh = true;
	r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(req[3], 0x1E);
	pb_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(poll.snap.heater_enabled);
	CHECK_NEAR(poll.snap.heat_stop_c, 10.0, 1e-6);

	/* older firmware (JKPB-06, address 1): the charge UTP and its release */
	CHECK(to_settings(&poll, &rx, 1));
	r = FEED_HEX(&poll, &rx, JKPB_05, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!poll.snap.heater_enabled);
	CHECK_NEAR(poll.snap.heat_start_c, -10.0, 1e-6);
	CHECK_NEAR(poll.snap.heat_stop_c, -5.0, 1e-6);

	/* the info refused, or unanswered: the settings without temperatures;
	 * asked again on refresh polls */
	for (int how = 0; how < 2; how++) {
		memset(&poll, 0, sizeof(poll));
		drive_begin(&poll, &rx, 3, 0, false);
		r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
		CHECK_EQ_INT(req[3], 0x1C);
		if (how == 0) {
			uint8_t e[5];
			mk_exc(e, 3, 0x02);
			CHECK_EQ_INT(drv->handle(&poll, e, 5), BMS_OK);
		} else {
			CHECK(drv->timeout(&poll));
		}
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
		CHECK_EQ_INT(req[3], 0x1E);
		r = FEED_BYTES(&poll, &rx, q, (size_t)sn, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK(poll.snap.present & BMS_HAS_HEATER_SET);
		CHECK(poll.snap.heater_enabled);
		CHECK(isnan(poll.snap.heat_start_c) && isnan(poll.snap.heat_stop_c));
		CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_HEAT_START_C));
		drive_begin(&poll, &rx, 3, 0, false);
		poll.setpoints = true;
		poll.refresh = false;
		r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
		CHECK_EQ_INT(req[3], 0x1E); /* not asked between refreshes */
		drive_begin(&poll, &rx, 3, 0, false);
		r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
		CHECK_EQ_INT(req[3], 0x1C);
	}
	/* another pack's info (its ack after the record) is not ours */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 3, 0, false);
	r = FEED_BYTES(&poll, &rx, b, 308, chunks_odd);
	CHECK_EQ_INT(drive_hex(JKPB_03, q, sizeof(q)), 309);
	mk_ack(q + 300, 4, 0x161C);
	r = FEED_BYTES(&poll, &rx, q, 308, chunks_odd);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.unexpected, 1);
	mk_ack(q, 3, 0x161C);
	r = FEED_BYTES(&poll, &rx, q, 8, chunks_one);
	CHECK_EQ_INT(r.ok, 0); /* our ack alone: the record is still to come */

	/* listening: the master's info record, then its settings */
	memset(&poll, 0, sizeof(poll));
	bms_poll_begin(&poll, 3, 0, false);
	info_with(f, "15A", "15.41");
	CHECK_EQ_INT(drv->listen->hear(&poll, NULL, 0, f, 300), BMS_LISTEN_EXTRA + 1);
	drive_hex(JKPB_02, q, sizeof(q));
	CHECK(drv->listen->hear(&poll, NULL, 0, q, 300) >= BMS_LISTEN_EXTRA);
	CHECK_NEAR(poll.kept.settings.v[BMS_SET_HEAT_STOP_C], 10.0, 1e-6);
}

/* The probe's answer (bms/PROTOCOLS.md §6.2, §27): FC 0x03 of the
 * device-info block, 16 registers = 32 bytes from 0x1400: device ID (16),
 * hardware (8), software version (8), each text then padding; tail: the
 * byte after the device ID's text. */
static size_t mk_info(uint8_t *f, uint8_t a, const char *id, int tail, const char *hw, const char *sw)
{
	memset(f, 0, 37);
	f[0] = a;
	f[1] = 0x03;
	f[2] = 32;
	memcpy(f + 3, id, strlen(id));
	if (tail >= 0)
		f[3 + strlen(id)] = (uint8_t)tail;
	memcpy(f + 3 + 16, hw, strlen(hw));
	memcpy(f + 3 + 24, sw, strlen(sw));
	uint16_t c = drive_crc16(f, 35);
	f[35] = (uint8_t)c;
	f[36] = (uint8_t)(c >> 8);
	return 37;
}

static enum bms_probe_verdict probe_judge(uint8_t a, const uint8_t *f, size_t n, struct bms_probe_result *r)
{
	struct bms_poll poll;
	bms_probe_begin(drv, &poll, a, 0);
	bms_probe_judge(drv, &poll, f, n, r);
	return r->verdict;
}

static void test_probe(void)
{
	uint8_t f[64], req[16];
	struct bms_poll poll;
	struct bms_probe_result r;
	bms_probe_begin(drv, &poll, 1, 0);
	CHECK_EQ_INT(bms_probe_request(drv, &poll, req, sizeof(req)), 8);
	CHECK_EQ_INT(req[1], 0x03); /* a read, never the trigger */
	size_t n = mk_info(f, 1, "JK_PB2A16S20P", -1, "15A", "15.41");
	CHECK_EQ_INT(probe_judge(1, f, n, &r), BMS_PROBE_MATCH);
	/* issue 36: firmware 19.27 puts 0x10 after the device ID's text */
	n = mk_info(f, 1, "JK_PB2A16S20P", 0x10, "19A", "19.27");
	CHECK_EQ_INT(probe_judge(1, f, n, &r), BMS_PROBE_MATCH);
	CHECK(strstr(r.what, "\"JK_PB2A16S20P\"") && strstr(r.what, "19.27"));
	if (r.verdict != BMS_PROBE_MATCH)
		fprintf(stderr, "FAIL the 19.27 device info: %s\n", r.what);
	/* ... its checksum still counts, and so does the text */
	f[10] ^= 0x01;
	CHECK(probe_judge(1, f, n, &r) != BMS_PROBE_MATCH);
	n = mk_info(f, 1, "JK", 0x10, "19A", "19.27");
	CHECK_EQ_INT(probe_judge(1, f, n, &r), BMS_PROBE_IMPLAUSIBLE);
	n = mk_info(f, 1, "", 0x10, "19A", "19.27");
	CHECK_EQ_INT(probe_judge(1, f, n, &r), BMS_PROBE_IMPLAUSIBLE);
	/* another address's answer is not this probe's */
	n = mk_info(f, 2, "JK_PB2A16S20P", 0x10, "19A", "19.27");
	CHECK_EQ_INT(probe_judge(1, f, n, &r), BMS_PROBE_NONE);
}

int main(void)
{
	test_request();
	test_vectors();
	test_orders();
	test_fields();
	test_alarms();
	test_broken();
	test_bus();
	test_settings();
	test_settings_broken();
	test_bms_settings_range();
	test_heater();
	test_probe();
	return check_report();
}
