/* SPDX-License-Identifier: MIT */
/* tests/unit/test_jbd_up.c - JBD UP16S / Eco-Worthy racks (bms/jbd_up.c):
 * the jbdup rows of tests/fixtures/vectors.tsv (a two-pack rack: the
 * master's 0x1000 status and 0x1C00 identity, the slave's status read
 * through the master, the other blocks and the FC 0x45 answer) through
 * scan() + handle() in whole polls as the gateway runs them, in every
 * chunking, with junk and echoes around; the requests (CRC at every
 * address); the slave's identity read that gets no answer (UP16S-10); and
 * broken: a bad CRC, truncated, another address, another block, impossible
 * counts, lengths beyond any block; the BMS's own settings (0x1C00's
 * balancing and the 0x1800 protection parameters of the real capture
 * UP16S-03) in a poll marked settings_due, unanswered, broken and out of
 * range.  Protocol facts: bms/PROTOCOLS.md §44. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>

static const struct bms_driver *const drv = &bms_jbd_up_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family jbdup */
#define UP16S_REQ_1000_1 "0178100010a000007fb2"
#define UP16S_REQ_1C00_1 "01781c001ca000007c2e"
#define UP16S_REQ_1000_2 "0278100010a000003fa7"
#define UP16S_REQ_1C00_2 "02781c001ca000003c3b"
#define UP16S_REQ_1800_1 "01781800190000007d44"
#define UP16S_01 \
	"0178100010a0009e14c50000000493e017cf17cf2710271002c602d600000064000000000000000000030004000c00030d03" \
	"00080cf50cfb000402c8000202c002c4024807d001c007d000100cfe0cf60d030cf60cf80cfb0d000cf50cfc0cfb0cfe0cfb" \
	"0cfc0cfd0cfd0cfa000402c502c002c602c8000000000c044a42443438313030303030000000000000000000000000000000" \
	"00000000000200035aa60000000000006a2e"
#define UP16S_02 \
	"01781c001ca00086000000000d48001e01f40258163005dc5550313653303139303030313233353235303332323030333332" \
	"0000000007e9000400114a424434383130303030300000000000000000000000000000000000000007e90003001245434f2d" \
	"4c465034383130302d33552d303234454444000000000000000000000c4e05a000010000000000000005f8e9"
#define UP16S_03 \
	"01781800190000d00e100d480bb80e420d480bb80a8c0b540bb809c40bb80bb8168015400bb816d015400bb8106812c003e8" \
	"0fa012c00bb8041a03e807d004b007d00258000a051401f40258041a03e807d004b007d0003c000a057800c8003c041a03e8" \
	"0bb8047e03e80bb80226025803e801f4022603e8041a03e803e8047e03e803e8015e019003e8012c015e03e805aa051403e8" \
	"060e054603e8044c03e80bb8047e044c0bb8015e01900bb8012c015e0bb8005000500bb8005000500bb8025801f41f400320" \
	"01f41f40000a000f07d00003000507d01f30"
#define UP16S_04 \
	"01782000205000402710271017cf17cf0064000c009600500000290b00002605001e0c1c00140c80001e0d7a00500dde005a" \
	"024803e801c003e8001000d2000405f2007d000010005c64"
#define UP16S_05 "017824002450000e0000000000000000000000000000f7b5"
#define UP16S_06 "01782800280f000c07ea00060006001100060038bbbe"
#define UP16S_07 "017829002910000e000000000000000000000000000079d2"
#define UP16S_08 \
	"014500000054007400100cfe0cf60d030cf60cf70cfb0d000cf50cfc0cfb0cfe0cfb0cfc0cfd0cfd0cfa0d030cf514c50000" \
	"00000b7f0b77271017cf000c003c00640000000000030000424a344431383030303000300000000000000000000000000000" \
	"0000000003e803e800080b7d0b8d04040b7c0b770b7d0b7f0a07"
#define UP16S_09 \
	"0278100010a0009614c914c9000493e01c841c9f2710271002ca02da00000064000000000000000000030000000200040d01" \
	"00010cfa0cfd000302d0000202c902cc024803e801c003e800100cfa0cff0cfb0d010cff0cfc0cfc0d000cfb0cfe0d000cfc" \
	"0cff0cfe0d000cfd000402ca02c902d002ce0000000000044a42443438313030303030000000000000000000000000000000" \
	"0000000000010002bcc0"
#define UP16S_11 \
	"0178100010a0009e14c50000000493e017cf17cf2710271002c502d600000064000000000000000000030004000c00030d03" \
	"00080cf50cfb000402c8000202c002c4024807d001c007d000100cfe0cf60d030cf60cf70cfb0d000cf50cfc0cfb0cfe0cfb" \
	"0cfc0cfd0cfd0cfa000402c502c002c602c8000000000c044a42443438313030303030000000000000000000000000000000" \
	"00000000000200035aa6000000000000e6c4"
#define UP16S_12 \
	"0278100010a0009614c914c9000493e01c841c9f2710271002ca02da00000064000000000000000000030000000200040d01" \
	"00010cfa0cfd000302d0000202c902cc024803e801c003e800100cfa0cff0cfb0d010cff0cfc0cfc0d000cfb0cfe0d000cfc" \
	"0cff0cfd0d000cfd000402ca02c902d002ce0000000000044a42443438313030303030000000000000000000000000000000" \
	"0000000000010002424c"

static const size_t chunks_odd[] = { 1, 3, 7, 2, 13, 5 };

/* Fix the CRC of a frame of n bytes after an edit. */
static void reseal(uint8_t *f, size_t n)
{
	uint16_t crc = drive_crc16(f, n - 2);
	f[n - 2] = (uint8_t)crc;
	f[n - 1] = (uint8_t)(crc >> 8);
}

static uint8_t a01[200], a02[160], a03[240], a09[200], a11[200], a12[200];
static int n01, n02, n03, n09, n11, n12;

static void load(void)
{
	n01 = drive_hex(UP16S_01, a01, sizeof(a01));
	n02 = drive_hex(UP16S_02, a02, sizeof(a02));
	n03 = drive_hex(UP16S_03, a03, sizeof(a03));
	n09 = drive_hex(UP16S_09, a09, sizeof(a09));
	n11 = drive_hex(UP16S_11, a11, sizeof(a11));
	n12 = drive_hex(UP16S_12, a12, sizeof(a12));
}

/* The master's status (UP16S-01; -11 differs in the MOSFET sensor and
 * cell 5), the values the sources assert. */
static void check_master(const struct bms_snapshot *s, bool later)
{
	static const uint16_t c[16] = { 3326, 3318, 3331, 3318, 3320, 3323, 3328, 3317,
					3324, 3323, 3326, 3323, 3324, 3325, 3325, 3322 };
	uint16_t want[16];
	memcpy(want, c, sizeof(want));
	if (later)
		want[4] = 3319;
	drive_check_cells(s, want, 16);
	CHECK_NEAR(s->voltage, 53.17, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 60.95, 1e-4);
	CHECK_NEAR(s->remain_ah, 60.95, 1e-4);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_NEAR(s->soh, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 12);
	CHECK_NEAR(s->mos_temp_c, later ? 20.9 : 21.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 5); /* four sensors, then the ambient one */
	static const float t[5] = { 20.9f, 20.4f, 21.0f, 21.2f, 22.6f };
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(s->temp_c[i], t[i], 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->state, 0);
	CHECK_NEAR(s->bms_cvl_v, 58.4, 1e-4);
	CHECK_NEAR(s->bms_dvl_v, 44.8, 1e-4);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
				 BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
				 BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_VOLT_LIMITS);
}

/* The slave's status read through the master (UP16S-09; -12 differs in
 * cell 14). */
static void check_slave(const struct bms_snapshot *s, bool later)
{
	static const uint16_t c[16] = { 3322, 3327, 3323, 3329, 3327, 3324, 3324, 3328,
					3323, 3326, 3328, 3324, 3327, 3326, 3328, 3325 };
	uint16_t want[16];
	memcpy(want, c, sizeof(want));
	if (later)
		want[13] = 3325;
	drive_check_cells(s, want, 16);
	CHECK_NEAR(s->voltage, 53.21, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 73.0, 1e-4);
	CHECK_NEAR(s->remain_ah, 73.27, 1e-4);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 2);
	CHECK_NEAR(s->mos_temp_c, 21.4, 1e-4);
	CHECK_EQ_INT(s->ntemps, 5);
	static const float t[5] = { 21.4f, 21.3f, 22.0f, 21.8f, 23.0f };
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(s->temp_c[i], t[i], 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "jbd-up");
	CHECK_EQ_INT(drv->protocol_id, 36);
	CHECK(bms_find("jbd-up") == drv);
	CHECK(!drv->ble && !drv->listen_only && !drv->control);
	CHECK(!drv->any_address && drv->group == 0);
	CHECK_EQ_INT(drv->min_address, 1);
	CHECK_EQ_INT(drv->max_address, 15);
	CHECK_EQ_INT(drv->default_baud, 9600);
	CHECK(drv->probe != NULL && drv->probe->bauds[0] == 9600 && drv->probe->naddrs == 1 &&
	      drv->probe->addrs[0] == 1 && drv->probe->request == NULL);
}

/* The requests of the capture, the CRC at every address; nothing but FC
 * 0x78 with length 0. */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[16], want[16];
	static const char *const reqs[2][2] = { { UP16S_REQ_1000_1, UP16S_REQ_1C00_1 },
						{ UP16S_REQ_1000_2, UP16S_REQ_1C00_2 } };

	for (int a = 1; a <= 2; a++) {
		drive_begin(&poll, &rx, (uint8_t)a, 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, req, 9), BMS_E_NOSPACE);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 10);
		CHECK_EQ_INT(check_hex(reqs[a - 1][0], want, 16), 10);
		CHECK(memcmp(req, want, 10) == 0);
		poll.step = 1;
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 10);
		CHECK_EQ_INT(check_hex(reqs[a - 1][1], want, 16), 10);
		CHECK(memcmp(req, want, 10) == 0);
	}
	for (int a = 1; a <= 15; a++) {
		drive_begin(&poll, &rx, (uint8_t)a, 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 10);
		CHECK(req[0] == a && req[1] == 0x78 && req[6] == 0 && req[7] == 0);
		CHECK(bms_crc16_modbus_ok(req, 10));
	}
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
	drive_begin(&poll, &rx, 16, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
}

/* Whole polls: the master's status and identity (first poll), its status
 * alone (identity known), in several chunkings, with our echo before. */
static void test_master(void)
{
	uint8_t e1[256];
	int ne = drive_hex(UP16S_REQ_1000_1 UP16S_01, e1, sizeof(e1));
	const size_t *chs[] = { chunks_one, chunks_big, chunks_odd };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd) };
	for (int k = 0; k < 3; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx = { 0 };
		struct drive_res r = { 0 };
		struct drive_answer da[2] = { { e1, (size_t)ne, chs[k], nchs[k], 0, 10 },
					      { a02, (size_t)n02, chs[k], nchs[k], 0, 10 } };
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(drive_poll(&poll, &rx, da, 2, &r), BMS_OK);
		CHECK_EQ_INT((int)r.skipped, 10); /* the echo, skipped whole */
		check_master(&poll.snap, false);
		const struct bms_ident *id = &poll.kept.ident;
		CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
		CHECK_STR(id->vendor, "JBD");
		CHECK_STR(id->model, "JBD48100000");
		CHECK_STR(id->serial, "UP16S019000123525032200332");
		CHECK_STR(id->pack_serial, "ECO-LFP48100-3U-024EDD");
		CHECK_STR(id->firmware, "12.4");
		/* the next poll: 0x1000 only */
		drive_begin(&poll, &rx, 1, 0, false);
		da[0].p = a11;
		da[0].len = (size_t)n11;
		CHECK_EQ_INT(drive_poll(&poll, &rx, da, 1, &r), BMS_OK);
		check_master(&poll.snap, true);
	}
	/* 12 cells forced; the current inverted */
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 12, true);
	struct drive_res r = FEED_BYTES(&poll, &rx, a01, (size_t)n01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 12);
}

/* The slave (address 2) through the master's port: its status, then the
 * identity read that gets no answer (UP16S-10): the poll completes, the
 * identity is not asked again. */
static void test_slave(void)
{
	uint8_t req[16];
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(!drv->timeout(&poll)); /* the status read is not given up */
	struct drive_res r = FEED_BYTES(&poll, &rx, a09, (size_t)n09, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 10);
	CHECK(req[2] == 0x1C);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_slave(&poll.snap, false);
	/* the next poll: the status alone */
	drive_begin(&poll, &rx, 2, 0, false);
	poll.refresh = false;
	struct drive_answer da[1] = { { a12, (size_t)n12, chunks_odd, DRIVE_NCH(chunks_odd), 0, 10 } };
	CHECK_EQ_INT(drive_poll(&poll, &rx, da, 1, &r), BMS_OK);
	check_slave(&poll.snap, true);
	/* a fresh link asks it again once */
	drive_begin_link(&poll, &rx, 2, 0, false, BMS_LINK_WIRE, true);
	FEED_BYTES(&poll, &rx, a09, (size_t)n09, chunks_big);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 10);
}

/* Every block of the capture that is not the step's answer: ignored. */
static void test_other_blocks(void)
{
	static const char *const others[] = { UP16S_02, UP16S_03, UP16S_04, UP16S_05, UP16S_06, UP16S_07, UP16S_08 };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx = { 0 };
		drive_begin(&poll, &rx, 1, 0, false);
		struct drive_res r = FEED_HEX(&poll, &rx, others[i], chunks_odd);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.unexpected, 1);
		CHECK_EQ_INT(r.badsum + r.bad_scan + r.ok, 0);
	}
	/* the slave's answer at the master's poll, the master's at the slave's */
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 0, false);
	struct drive_res r = FEED_BYTES(&poll, &rx, a09, (size_t)n09, chunks_odd);
	CHECK(r.unexpected == 1 && r.ok == 0);
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_BYTES(&poll, &rx, a01, (size_t)n01, chunks_odd);
	CHECK(r.unexpected == 1 && r.ok == 0);
	/* a late status answer at the identity step */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 1;
	r = FEED_BYTES(&poll, &rx, a01, (size_t)n01, chunks_odd);
	CHECK(r.unexpected == 1 && r.ok == 0);
}

/* Junk, stray bytes that look like a start, the other pack's answer and
 * echoes around the answer, in random chunks. */
static void test_noise(void)
{
	uint8_t buf[1024];
	size_t len = 0;
	static const uint8_t junk[] = { 0x00, 0x01, 0x78, 0xFF, 0x02, 0x45, 0x10, 0x01, 0x13, 0x0F, 0x78 };
	memcpy(buf, junk, sizeof(junk));
	len = sizeof(junk);
	memcpy(buf + len, a09, (size_t)n09);
	len += (size_t)n09;
	len += (size_t)drive_hex(UP16S_REQ_1000_1, buf + len, 16);
	memcpy(buf + len, a01, (size_t)n01);
	len += (size_t)n01;
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 0, false);
	struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, chunks_odd, DRIVE_NCH(chunks_odd));
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.bad_scan, 0);
	check_master(&poll.snap, false);
	uint32_t st = 11;
	for (int k = 0; k < 20; k++) {
		drive_begin(&poll, &rx, 1, 0, false);
		struct drive_res rr = { 0 };
		drive_feed_random(&poll, &rx, buf, len, &st, 9, &rr);
		CHECK_EQ_INT(rr.ok, 1);
		CHECK_EQ_INT(rr.bad_scan, 0);
	}
}

/* handle() of one frame at a step of address 1. */
static struct drive_res feed_at(struct bms_poll *poll, int step, const uint8_t *f, size_t n)
{
	struct bms_rx rx = { 0 };
	drive_begin(poll, &rx, f[0] >= 1 && f[0] <= 15 ? f[0] : 1, 0, false);
	poll->step = step;
	return FEED_BYTES(poll, &rx, f, n, chunks_odd);
}

/* Set the data length (and the CRC) of a frame cut to n bytes. */
static void cut(uint8_t *f, size_t n)
{
	f[6] = (uint8_t)((n - 10) >> 8);
	f[7] = (uint8_t)(n - 10);
	reseal(f, n);
}

static void test_broken(void)
{
	uint8_t b[300];
	struct bms_poll poll = { 0 };
	struct drive_res r;
	size_t n = (size_t)n01;

	/* a bad CRC, a flipped data byte: BADSUM, no frame */
	memcpy(b, a01, n);
	b[n - 1] ^= 0x01;
	r = feed_at(&poll, 0, b, n);
	CHECK(r.badsum >= 1 && r.frames == 0 && r.ok == 0);
	memcpy(b, a01, n);
	b[20] ^= 0x40;
	r = feed_at(&poll, 0, b, n);
	CHECK(r.badsum >= 1 && r.ok == 0);
	/* truncated: waits, nothing taken */
	r = feed_at(&poll, 0, a01, n - 3);
	CHECK(r.frames == 0 && r.badsum == 0 && r.ok == 0);
	r = feed_at(&poll, 0, a01, 7);
	CHECK(r.frames == 0 && r.badsum == 0 && r.ok == 0);
	/* a length beyond any block: the start skipped, never waited for */
	memcpy(b, a01, n);
	b[6] = 0x7F;
	r = feed_at(&poll, 0, b, n);
	CHECK(r.frames == 0 && r.ok == 0 && r.skipped == n);
	/* start after end: not a frame */
	memcpy(b, a01, n);
	b[2] = 0x20;
	reseal(b, n);
	r = feed_at(&poll, 0, b, n);
	CHECK(r.frames == 0 && r.ok == 0);
	/* cut inside the cells (the length says so, the CRC is right) */
	memcpy(b, a01, n);
	cut(b, 8 + 70 + 2);
	r = feed_at(&poll, 0, b, 8 + 70 + 2);
	CHECK(r.err == 1 && r.last_err == BMS_E_SHORT);
	/* cut before the cell count */
	memcpy(b, a01, n);
	cut(b, 8 + 60 + 2);
	r = feed_at(&poll, 0, b, 8 + 60 + 2);
	CHECK(r.err == 1 && r.last_err == BMS_E_SHORT);
	/* cut inside the sensors */
	memcpy(b, a01, n);
	cut(b, 8 + 100 + 4 + 2);
	r = feed_at(&poll, 0, b, 8 + 100 + 4 + 2);
	CHECK(r.err == 1 && r.last_err == BMS_E_SHORT);
	/* cut right after the sensors: taken, without balancing bits */
	memcpy(b, a01, n);
	cut(b, 8 + 110 + 2);
	r = feed_at(&poll, 0, b, 8 + 110 + 2);
	CHECK(r.ok == 1 && !(poll.snap.present & BMS_HAS_BALANCE) && poll.snap.ntemps == 5);
	/* 0 cells, 33 cells, 40 sensors: impossible counts */
	static const uint16_t counts[][2] = { { 66, 0 }, { 66, 33 }, { 100, 40 } };
	for (size_t k = 0; k < 3; k++) {
		memcpy(b, a01, n);
		b[8 + counts[k][0]] = 0;
		b[9 + counts[k][0]] = (uint8_t)counts[k][1];
		reseal(b, n);
		r = feed_at(&poll, 0, b, n);
		CHECK(r.err == 1 && r.last_err == BMS_E_RANGE);
	}
	/* 17 cells: the sensor count read one word later, then short */
	memcpy(b, a01, n);
	b[9 + 66] = 17;
	reseal(b, n);
	r = feed_at(&poll, 0, b, n);
	CHECK(r.err == 1);
	/* the identity cut before the pack name */
	memcpy(b, a02, (size_t)n02);
	cut(b, 8 + 100 + 2);
	r = feed_at(&poll, 1, b, 8 + 100 + 2);
	CHECK(r.err == 1 && r.last_err == BMS_E_SHORT);
	/* a pack alone without an answer to its status: the poll fails */
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* Current (raw - 300000) x 0.01 A, + = charging; the state; temperatures
 * below zero; the MOSFET and balancing bits; the alarm words. */
static void test_values(void)
{
	static const struct {
		int word, bit; /* word 0: protection bits 0-15, 1: 16-31, 2/3: the alarm word's */
		uint32_t al;
	} t[] = {
		{ 0, 0, BMS_AL_CELL_OV | BMS_AL_PROTECTION },  { 0, 5, BMS_AL_CHG_OC | BMS_AL_PROTECTION },
		{ 0, 7, BMS_AL_DSG_OC | BMS_AL_PROTECTION },   { 0, 9, BMS_AL_CHG_UT | BMS_AL_PROTECTION },
		{ 0, 10, BMS_AL_DSG_OT | BMS_AL_PROTECTION },  { 0, 12, BMS_AL_MOS_OT | BMS_AL_PROTECTION },
		{ 0, 15, BMS_AL_CELL_DIFF | BMS_AL_PROTECTION }, { 1, 2, BMS_AL_SHORT | BMS_AL_PROTECTION },
		{ 1, 4, BMS_AL_SENSOR | BMS_AL_PROTECTION },   { 1, 6, BMS_AL_MOS_FAULT | BMS_AL_PROTECTION },
		{ 1, 10, BMS_AL_COMM | BMS_AL_PROTECTION },    { 2, 1, BMS_AL_CELL_UV },
		{ 2, 6, BMS_AL_CHG_OT },                       { 2, 15, BMS_AL_SOC_LOW },
		{ 3, 0, BMS_AL_HW_FAULT },                     { 3, 2, BMS_AL_SOC_HIGH },
		{ 3, 7, 0 }, /* a bit no source names: kept raw only */
	};
	uint8_t b[256];
	size_t n = (size_t)n01;
	struct bms_poll poll = { 0 };
	struct drive_res r;
	const int d = 8; /* data offset */

	memcpy(b, a01, n);
	uint32_t raw = 300000 + 1764; /* +17.64 A */
	for (int i = 0; i < 4; i++)
		b[d + 4 + i] = (uint8_t)(raw >> (24 - 8 * i));
	b[d + 21] = 1;
	reseal(b, n);
	r = feed_at(&poll, 0, b, n);
	CHECK(r.ok == 1);
	CHECK_NEAR(poll.snap.current, 17.64, 1e-3);
	CHECK_EQ_INT(poll.snap.state, 1);
	raw = 300000 - 3959;
	for (int i = 0; i < 4; i++)
		b[d + 4 + i] = (uint8_t)(raw >> (24 - 8 * i));
	b[d + 21] = 2;
	reseal(b, n);
	r = feed_at(&poll, 0, b, n);
	CHECK_NEAR(poll.snap.current, -39.59, 1e-3);
	CHECK_EQ_INT(poll.snap.state, 2);
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 0, true);
	FEED_BYTES(&poll, &rx, b, n, chunks_odd);
	CHECK_NEAR(poll.snap.current, 39.59, 1e-3);
	/* -12.5 degC on sensor 1 (raw 375); a MOSFET word with discharge only;
	 * balancing cells 1 and 16 */
	memcpy(b, a01, n);
	b[d + 102] = 0x01;
	b[d + 103] = 0x77;
	b[d + 33] = 0x01;
	b[d + 112] = 0x80;
	b[d + 113] = 0x01;
	reseal(b, n);
	r = feed_at(&poll, 0, b, n);
	CHECK(r.ok == 1);
	CHECK_NEAR(poll.snap.temp_c[0], -12.5, 1e-4);
	CHECK(poll.snap.dsg_mos && !poll.snap.chg_mos);
	CHECK_EQ_INT(poll.snap.balance, 0x8001);
	/* a sensor reading 0xFFFF (6503.5 degC): the poll stands, the gateway's
	 * sensor check makes it absent and flags the pack (no lost pack) */
	memcpy(b, a01, n);
	b[d + 104] = 0xFF;
	b[d + 105] = 0xFF;
	reseal(b, n);
	r = feed_at(&poll, 0, b, n);
	CHECK(r.ok == 1 && r.err == 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(bms_sensor_faults(&poll.snap, NULL), 1u << 1);
	CHECK(isnan(poll.snap.temp_c[1]) && (poll.snap.alarms & BMS_AL_SENSOR));
	CHECK(bms_plausible(&poll.snap, NULL));
	/* voltage limits: CVL 0 = none; a DVL not under the CVL is none */
	memcpy(b, a01, n);
	b[d + 58] = b[d + 59] = 0;
	reseal(b, n);
	r = feed_at(&poll, 0, b, n);
	CHECK(r.ok == 1 && !(poll.snap.present & BMS_HAS_VOLT_LIMITS));
	memcpy(b, a01, n);
	b[d + 62] = b[d + 58];
	b[d + 63] = b[d + 59];
	reseal(b, n);
	r = feed_at(&poll, 0, b, n);
	CHECK(r.ok == 1 && (poll.snap.present & BMS_HAS_VOLT_LIMITS) && isnan(poll.snap.bms_dvl_v));
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		memcpy(b, a01, n);
		/* word 0 = data 26..27, 1 = 24..25, 2 = 30..31, 3 = 28..29 */
		static const int at[4] = { 26, 24, 30, 28 };
		b[d + at[t[k].word]] = (uint8_t)((1u << t[k].bit) >> 8);
		b[d + at[t[k].word] + 1] = (uint8_t)(1u << t[k].bit);
		reseal(b, n);
		r = feed_at(&poll, 0, b, n);
		CHECK(r.ok == 1);
		CHECK_EQ_INT(poll.snap.alarms, t[k].al);
		CHECK_EQ_INT(poll.snap.raw_alarms[t[k].word], 1u << t[k].bit);
	}
}

/* ---- the BMS's own settings (§44.7) -------------------------------------- */

/* The settings of UP16S-02 (balancing) and UP16S-03 (protections): the
 * protection entries (the second of each alarm / protection pair). */
static void check_settings(const struct bms_settings *st, bool prot)
{
	static const struct {
		enum bms_set_key k;
		float v;
	} want[] = {
		{ BMS_SET_CELL_OVP_V, 3.650f },          { BMS_SET_CELL_OVP_RELEASE_V, 3.400f },
		{ BMS_SET_CELL_OVP_DELAY_S, 3.0f },      { BMS_SET_CELL_UVP_V, 2.500f },
		{ BMS_SET_CELL_UVP_RELEASE_V, 3.000f },  { BMS_SET_CELL_UVP_DELAY_S, 3.0f },
		{ BMS_SET_PACK_OVP_V, 58.40f },          { BMS_SET_PACK_UVP_V, 40.00f },
		{ BMS_SET_CHARGE_OCP_A, 120.0f },        { BMS_SET_CHARGE_OCP_DELAY_S, 2.0f },
		{ BMS_SET_DISCHARGE_OCP_A, 120.0f },     { BMS_SET_DISCHARGE_OCP_DELAY_S, 2.0f },
		{ BMS_SET_CHARGE_OTP_C, 65.0f },         { BMS_SET_CHARGE_OTP_RELEASE_C, 50.0f },
		{ BMS_SET_CHARGE_UTP_C, 0.0f },          { BMS_SET_CHARGE_UTP_RELEASE_C, 5.0f },
		{ BMS_SET_DISCHARGE_OTP_C, 65.0f },      { BMS_SET_DISCHARGE_OTP_RELEASE_C, 50.0f },
		{ BMS_SET_DISCHARGE_UTP_C, -20.0f },     { BMS_SET_DISCHARGE_UTP_RELEASE_C, -15.0f },
	};
	CHECK(bms_settings_has(st, BMS_SET_BALANCE_START_V) && bms_settings_has(st, BMS_SET_BALANCE_DELTA_V));
	CHECK_NEAR(st->v[BMS_SET_BALANCE_START_V], 3.400, 1e-6);
	CHECK_NEAR(st->v[BMS_SET_BALANCE_DELTA_V], 0.030, 1e-6);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(bms_settings_has(st, want[i].k) == prot);
		if (prot)
			CHECK_NEAR(st->v[want[i].k], want[i].v, 1e-4);
	}
	/* what the table announces, and nothing else */
	CHECK_EQ_INT(st->have & ~drv->settings, 0);
	if (prot)
		CHECK(st->have == drv->settings);
}

/* A poll marked settings_due: status, 0x1C00 (identity and balancing),
 * then 0x1800; the requests of the capture; in every chunking. */
static void test_settings(void)
{
	uint8_t req[16], want[16];
	const size_t *chs[] = { chunks_one, chunks_big, chunks_odd };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd) };
	for (int k = 0; k < 3; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx = { 0 };
		struct drive_res r = { 0 };
		struct drive_answer da[3] = { { a01, (size_t)n01, chs[k], nchs[k], 0, 10 },
					      { a02, (size_t)n02, chs[k], nchs[k], 0, 10 },
					      { a03, (size_t)n03, chs[k], nchs[k], 0, 10 } };
		drive_begin(&poll, &rx, 1, 0, false);
		poll.settings_due = true;
		CHECK_EQ_INT(drive_poll(&poll, &rx, da, 3, &r), BMS_OK);
		check_master(&poll.snap, false);
		check_settings(&poll.kept.settings, true);
		CHECK_STR(poll.kept.ident.serial, "UP16S019000123525032200332");
		/* identity known, settings due again: 0x1C00 (balancing), 0x1800 */
		drive_begin(&poll, &rx, 1, 0, false);
		poll.settings_due = true;
		memset(&poll.kept.settings, 0, sizeof(poll.kept.settings));
		CHECK_EQ_INT(drive_poll(&poll, &rx, da, 3, &r), BMS_OK);
		check_settings(&poll.kept.settings, true);
		/* not due: the status alone, the settings kept */
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(drive_poll(&poll, &rx, da, 1, &r), BMS_OK);
		check_settings(&poll.kept.settings, true);
	}
	/* the 0x1800 request of the capture */
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	poll.step = 2;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 10);
	CHECK_EQ_INT(check_hex(UP16S_REQ_1800_1, want, 16), 10);
	CHECK(memcmp(req, want, 10) == 0);
	/* the protection read unanswered: the poll is complete without it */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	FEED_BYTES(&poll, &rx, a01, (size_t)n01, chunks_odd);
	FEED_BYTES(&poll, &rx, a02, (size_t)n02, chunks_odd);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 10);
	CHECK(req[2] == 0x18 && req[4] == 0x19);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_settings(&poll.kept.settings, false);
	/* the slave does not answer 0x1C00: 0x1800 is not asked */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 2, 0, false);
	poll.settings_due = true;
	FEED_BYTES(&poll, &rx, a09, (size_t)n09, chunks_odd);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 10);
	CHECK(req[2] == 0x1C);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.kept.settings.have, 0);
}

/* A broken or impossible 0x1800: refused (the step then ends through
 * timeout()), or a value outside its field's range left absent. */
/* handle() of one frame at a step of address 1, in a poll marked
 * settings_due, the settings not read before. */
static struct drive_res feed_due(struct bms_poll *poll, int step, const uint8_t *f, size_t n)
{
	struct bms_rx rx = { 0 };
	drive_begin(poll, &rx, 1, 0, false);
	memset(&poll->kept.settings, 0, sizeof(poll->kept.settings));
	poll->settings_due = true;
	poll->step = step;
	return FEED_BYTES(poll, &rx, f, n, chunks_odd);
}

static void test_settings_broken(void)
{
	uint8_t b[240];
	size_t n = (size_t)n03;
	struct bms_poll poll = { 0 };
	struct drive_res r;

	/* a bad CRC */
	memcpy(b, a03, n);
	b[n - 2] ^= 0x01;
	r = feed_due(&poll, 2, b, n);
	CHECK(r.badsum >= 1 && r.ok == 0 && poll.kept.settings.have == 0);
	/* cut before the last protection read: refused, the step then ends */
	memcpy(b, a03, n);
	cut(b, 8 + 134 + 2);
	r = feed_due(&poll, 2, b, 8 + 134 + 2);
	CHECK(r.err == 1 && r.last_err == BMS_E_SHORT && poll.kept.settings.have == 0);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, b, sizeof(b)), 0);
	/* cut right after it: taken */
	memcpy(b, a03, n);
	cut(b, 8 + 136 + 2);
	r = feed_due(&poll, 2, b, 8 + 136 + 2);
	CHECK(r.ok == 1 && bms_settings_has(&poll.kept.settings, BMS_SET_DISCHARGE_UTP_RELEASE_C));
	/* another pack's 0x1800; the identity block at the protection step;
	 * 0x1800 in a poll not marked due */
	memcpy(b, a03, n);
	b[0] = 2;
	reseal(b, n);
	r = feed_due(&poll, 2, b, n);
	CHECK(r.unexpected == 1 && r.ok == 0);
	r = feed_due(&poll, 2, a02, (size_t)n02);
	CHECK(r.unexpected == 1 && r.ok == 0);
	r = feed_at(&poll, 2, a03, n);
	CHECK(r.unexpected == 1 && r.ok == 0 && poll.kept.settings.have == 0);
	/* out of range: cell OVP 0 mV, pack OVP 0, charge OTP -50 degC, charge
	 * OCP 0 A, a delay of 65.535 s: absent, their neighbours read */
	memcpy(b, a03, n);
	static const uint8_t zero[] = { 8 + 6, 8 + 30, 8 + 94, 8 + 54 };
	for (size_t i = 0; i < sizeof(zero); i++)
		b[zero[i]] = b[zero[i] + 1] = 0;
	b[8 + 10] = b[8 + 11] = 0xFF;
	reseal(b, n);
	r = feed_due(&poll, 2, b, n);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK(r.ok == 1);
	CHECK(!bms_settings_has(st, BMS_SET_CELL_OVP_V) && !bms_settings_has(st, BMS_SET_PACK_OVP_V) &&
	      !bms_settings_has(st, BMS_SET_CHARGE_OTP_C) && !bms_settings_has(st, BMS_SET_CELL_OVP_DELAY_S) &&
	      !bms_settings_has(st, BMS_SET_CHARGE_OCP_A));
	CHECK(bms_settings_has(st, BMS_SET_CELL_OVP_RELEASE_V) && bms_settings_has(st, BMS_SET_CHARGE_OTP_RELEASE_C));
	/* balancing from 0 mV at 2 V: absent, the identity read */
	memcpy(b, a02, (size_t)n02);
	b[8 + 4] = b[8 + 5] = 0;
	b[8 + 6] = 0x07;
	b[8 + 7] = 0xD0;
	reseal(b, (size_t)n02);
	r = feed_due(&poll, 1, b, (size_t)n02);
	CHECK(r.ok == 1 && poll.kept.ident_state == BMS_IDENT_HAVE);
	CHECK(!bms_settings_has(st, BMS_SET_BALANCE_START_V) && !bms_settings_has(st, BMS_SET_BALANCE_DELTA_V));
}

int main(void)
{
	load();
	test_table();
	test_requests();
	test_master();
	test_slave();
	test_other_blocks();
	test_noise();
	test_broken();
	test_values();
	test_settings();
	test_settings_broken();
	return check_report();
}
