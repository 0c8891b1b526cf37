/* SPDX-License-Identifier: MIT */
/* tests/unit/test_setwrite.c - writing a BMS's own settings: each family's
 * steps (bms/setwrite.h) on frames computed from the documents and checked
 * by their checksums, broken ones too, and the bounds and order a change
 * is checked against first (gateway/engine/setbounds.c).
 *
 * jbd (bms/PROTOCOLS.md §7.8): the register map's example `DD 5A 24 02 0E
 * 10 FF BC 77` (cell OVP 3.600 V) and `DD 5A 10 02 27 10 FF B7 77` (100 Ah);
 * the factory entry `DD 5A 00 02 56 78 FF 30 77`; the write acknowledgement
 * captured from the Xiaoxiang app (`DD <reg> 00 00 00 00 77`); our own echo
 * ignored; a refusal (status 0x80) and a wrong read-back left without
 * saving (`DD 5A 01 02 00 00 FF FD 77`), and so is an entry whose
 * acknowledgement was lost (it may have taken) and a change given up
 * after its read; 0x2D written whole, bit 2 alone changed; a bad checksum
 * no answer.
 * daly (§2.12): `A5 40 21 08 00 00 00 00 00 00 02 2B 3B` (55.5 %, zero
 * date, dbus-serialbattery / python-daly-bms), the board's answer D0 = 1,
 * D0 = 0 a refusal, our echo (host 0x40) never an answer, the read-back
 * from 0x90 D6-D7.
 * jk-pb (§6.8): every key's FC16 frame of two registers, the value
 * big-endian, CRC-16/MODBUS: the example `01 10 10 0C 00 02 04 00
 * 00 0E 10 ..` (cell OVP 3.600 V) and txubelaxu/esphome-jk-bms's captured
 * `02 10 10 84 00 02 04 00 00 0D 70 3D CC` (balancing start 3.440 V) and
 * `02 10 10 78 00 02 04 00 00 00 01 F6 69` (the balancer on); the standard
 * FC16 answer; exception 0x90 a refusal; the read-back from the settings
 * frame JKPB-05 (trigger 0x161E, the frame and its acknowledgement in either
 * order, another address's acknowledgement disowning the frame), equal
 * and not equal; broken CRCs and sums.
 * jk-ble (§15.7): every key's 20-byte frame (value little-endian, sum8),
 * the example `AA 55 90 EB 04 04 10 0E 00 .. A0` (cell OVP 3.600 V) and
 * the frames syssi/esphome-jk-bms#128 lists as tested (cell OVP 3.65 V,
 * trigger 0.003 V, the JK02_24S balancing start 0x26); the 0xC8
 * acknowledgement taken as received, never as success; the read-back from
 * the settings records JK02-05 (JK02_32S) and JK02-02 (JK02_24S: the
 * balancing start written to 0x26, read at 138).
 * daly-modbus, D2 dialect (§14.5): every key's read, FC06 write and
 * read-back on syssi/esphome-daly-bms's register table (the
 * example `D2 06 00 8C 0E 10 5E 2E`, cell OVP 3.600 V; the CRC computed),
 * the echo taken as "received" only, exceptions D2 86 04 / D2 83 02
 * refusals, a poll's late answers (41 registers, the balancer's one) never
 * the field's, a read-back that disagrees, the over-current's side kept
 * from its own read (0 A: nothing written), the 0x81 dialect and a wire
 * nothing at all.
 */
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../gateway/engine/setbounds.h"
#include "check.h"

static int hex(const char *h, uint8_t *b)
{
	return check_hex(h, b, 64);
}

/* The next frame of c equals the hex h. */
static void expect_req(const struct bms_driver *d, struct bms_wchange *c, const char *h)
{
	uint8_t want[64], got[64];
	int n = hex(h, want);
	int m = d->writer->request(c, got, sizeof(got));
	CHECK_EQ_INT(m, n);
	if (m == n && n > 0 && memcmp(got, want, (size_t)n) != 0) {
		fprintf(stderr, "  frame differs from %s\n", h);
		check_failed++;
	} else {
		check_passed++;
	}
}

static int feed(const struct bms_driver *d, struct bms_wchange *c, const char *h)
{
	uint8_t b[64];
	int n = hex(h, b);
	return d->writer->answer(c, b, (size_t)n);
}

static void jbd_done(void)
{
	const struct bms_driver *d = &bms_jbd_driver;
	struct bms_wchange c = { .key = BMS_W_CELL_OVP_V };
	char why[160];
	int64_t raw;
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_CELL_OVP_V], 3.6, &raw, why, sizeof(why)), 0);
	c.raw = raw;
	CHECK_EQ_INT(raw, 3600);
	expect_req(d, &c, "DD 5A 00 02 56 78 FF 30 77");               /* enter */
	CHECK_EQ_INT(feed(d, &c, "DD 5A 00 02 56 78 FF 30 77"), BMS_E_UNEXPECTED); /* our echo */
	CHECK_EQ_INT(feed(d, &c, "DD 00 00 00 00 00 77"), BMS_OK);
	CHECK(c.unlocked);
	CHECK_EQ_INT((int)c.persist, 1); /* the polls' mark: factory mode entered */
	expect_req(d, &c, "DD A5 24 00 FF DC 77");                      /* read the old value */
	CHECK_EQ_INT(feed(d, &c, "DD 03 00 02 0E 42 FF AE 77"), BMS_E_UNEXPECTED); /* no 0x24 answer */
	CHECK_EQ_INT(feed(d, &c, "DD 24 00 02 0E 42 FF AE 77"), BMS_OK); /* 3.650 V */
	CHECK(c.have_old && c.old_raw == 3650);
	expect_req(d, &c, "DD 5A 24 02 0E 10 FF BC 77");               /* the register map's example */
	CHECK_EQ_INT(feed(d, &c, "DD 24 00 00 00 00 77"), BMS_OK);
	expect_req(d, &c, "DD A5 24 00 FF DC 77");                      /* read back */
	CHECK_EQ_INT(feed(d, &c, "DD 24 00 02 0E 10 FF E0 77"), BMS_OK);
	CHECK(c.have_back && c.back_raw == 3600);
	expect_req(d, &c, "DD 5A 01 02 28 28 FF AD 77");               /* leave, saved */
	CHECK_EQ_INT(feed(d, &c, "DD 01 00 00 00 00 77"), BMS_OK);
	CHECK(!c.unlocked && !c.refused);
	CHECK_EQ_INT((int)c.persist, 0); /* left: nothing for the polls */
	uint8_t out[32];
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* capacity, 100 Ah: the register map's second example */
	struct bms_wchange k = { .key = BMS_W_CAPACITY_AH, .step = 2 };
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_CAPACITY_AH], 100, &raw, why, sizeof(why)), 0);
	k.raw = raw;
	expect_req(d, &k, "DD 5A 10 02 27 10 FF B7 77");
	/* discharge over-current 100 A is D8 F0 */
	struct bms_wchange o = { .key = BMS_W_DISCHARGE_OCP_A, .step = 2 };
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_DISCHARGE_OCP_A], 100, &raw, why, sizeof(why)), 0);
	o.raw = raw;
	CHECK_EQ_INT(raw, -10000);
	expect_req(d, &o, "DD 5A 29 02 D8 F0 FE 0D 77");
}

static void jbd_refused(void)
{
	const struct bms_driver *d = &bms_jbd_driver;
	struct bms_wchange c = { .key = BMS_W_CELL_OVP_V, .raw = 3600 };
	uint8_t out[32];
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 9);
	CHECK_EQ_INT(feed(d, &c, "DD 00 00 00 00 00 77"), BMS_OK);
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 7);
	CHECK_EQ_INT(feed(d, &c, "DD 24 00 02 0E 42 FF AE 77"), BMS_OK);
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 9);
	CHECK_EQ_INT(feed(d, &c, "DD 24 80 00 FF 80 77"), BMS_E_REFUSED);  /* the write refused */
	CHECK(c.refused);
	expect_req(d, &c, "DD 5A 01 02 00 00 FF FD 77");                 /* left without saving */
	CHECK_EQ_INT(feed(d, &c, "DD 01 00 00 00 00 77"), BMS_OK);
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* the entry refused (a password): nothing to leave */
	struct bms_wchange e = { .key = BMS_W_CELL_OVP_V, .raw = 3600 };
	CHECK_EQ_INT(d->writer->request(&e, out, sizeof(out)), 9);
	CHECK_EQ_INT(feed(d, &e, "DD 00 80 00 FF 80 77"), BMS_E_REFUSED);
	CHECK_EQ_INT(d->writer->request(&e, out, sizeof(out)), 0);
	/* a wrong read-back: left without saving */
	struct bms_wchange w = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .step = 3, .unlocked = true };
	CHECK_EQ_INT(feed(d, &w, "DD 24 00 02 0E 42 FF AE 77"), BMS_OK);
	expect_req(d, &w, "DD 5A 01 02 00 00 FF FD 77");
	/* the gateway gives up (no answer) inside factory mode: leave it */
	struct bms_wchange q = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .step = 2, .unlocked = true, .quit = true,
				  .persist = 1 };
	expect_req(d, &q, "DD 5A 01 02 00 00 FF FD 77");
	CHECK_EQ_INT((int)q.persist, 1); /* unanswered: the next poll leaves it */
	CHECK_EQ_INT(feed(d, &q, "DD 01 80 00 FF 80 77"), BMS_E_REFUSED); /* the leaving refused too */
	CHECK_EQ_INT((int)q.persist, 1);
	/* broken: a bad checksum, a short answer to a read */
	struct bms_wchange b = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .step = 1, .unlocked = true };
	CHECK_EQ_INT(feed(d, &b, "DD 24 00 02 0E 42 FF AB 77"), BMS_E_CHECKSUM);
	CHECK_EQ_INT(feed(d, &b, "DD 24 00 00 00 00 77"), BMS_E_SHORT);
	CHECK_EQ_INT(feed(d, &b, "DD 24 00 05 0E"), BMS_E_CHECKSUM);
	CHECK_EQ_INT(b.step, 1);
}

/* The entry's acknowledgement lost: the BMS may be in factory mode, so
 * the exit goes all the same; a refused entry needs none; the write flag
 * (the budget's) set only by the write itself. */
static void jbd_lost_ack(void)
{
	const struct bms_driver *d = &bms_jbd_driver;
	struct bms_wchange c = { .key = BMS_W_CELL_OVP_V, .raw = 3600 };
	expect_req(d, &c, "DD 5A 00 02 56 78 FF 30 77");
	CHECK(c.unlocked && !c.wrote);
	CHECK_EQ_INT((int)c.persist, 1);  /* the polls leave it if this change cannot */
	c.quit = true;                     /* no answer after the retries */
	expect_req(d, &c, "DD 5A 01 02 00 00 FF FD 77");
	CHECK(!c.wrote);
	CHECK_EQ_INT(feed(d, &c, "DD 01 00 00 00 00 77"), BMS_OK);
	CHECK(!c.unlocked);
	CHECK_EQ_INT((int)c.persist, 0);
	uint8_t out[32];
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* refused entry: no exit, no mark for the polls */
	struct bms_wchange e = { .key = BMS_W_CELL_OVP_V, .raw = 3600 };
	CHECK_EQ_INT(d->writer->request(&e, out, sizeof(out)), 9);
	CHECK_EQ_INT(feed(d, &e, "DD 00 80 00 FF 80 77"), BMS_E_REFUSED);
	CHECK(!e.unlocked);
	CHECK_EQ_INT((int)e.persist, 0);
	CHECK_EQ_INT(d->writer->request(&e, out, sizeof(out)), 0);
	/* given up after the read (a reload, a stop): left without saving, nothing written */
	struct bms_wchange g = { .key = BMS_W_CELL_OVP_V, .raw = 3600 };
	CHECK_EQ_INT(d->writer->request(&g, out, sizeof(out)), 9);
	CHECK_EQ_INT(feed(d, &g, "DD 00 00 00 00 00 77"), BMS_OK);
	CHECK_EQ_INT(d->writer->request(&g, out, sizeof(out)), 7);
	g.quit = true;
	CHECK_EQ_INT(feed(d, &g, "DD 24 00 02 0E 42 FF AE 77"), BMS_OK);
	expect_req(d, &g, "DD 5A 01 02 00 00 FF FD 77");
	CHECK(!g.wrote);
	/* the write itself marks it */
	struct bms_wchange w = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .step = 2, .unlocked = true };
	expect_req(d, &w, "DD 5A 24 02 0E 10 FF BC 77");
	CHECK(w.wrote);
}

static void jbd_balancer(void)
{
	const struct bms_driver *d = &bms_jbd_driver;
	struct bms_wchange c = { .key = BMS_W_BALANCER, .raw = 0, .step = 1, .unlocked = true };
	CHECK_EQ_INT(feed(d, &c, "DD 2D 00 02 00 0D FF F1 77"), BMS_OK); /* 0x000D: balance on, bits 0 and 3 */
	CHECK(c.old_raw == 1);
	expect_req(d, &c, "DD 5A 2D 02 00 09 FF C8 77");               /* 0x0009: bit 2 alone cleared */
}

static void daly_soc(void)
{
	const struct bms_driver *d = &bms_daly_driver;
	struct bms_wchange c = { .key = BMS_W_SOC, .address = 1 };
	char why[160];
	int64_t raw;
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_SOC], 55.5, &raw, why, sizeof(why)), 0);
	c.raw = raw;
	expect_req(d, &c, "A5 40 21 08 00 00 00 00 00 00 02 2B 3B");
	CHECK_EQ_INT(feed(d, &c, "A5 40 21 08 00 00 00 00 00 00 02 2B 3B"), BMS_E_UNEXPECTED); /* echo */
	CHECK_EQ_INT(feed(d, &c, "A5 01 21 08 01 00 00 00 00 00 00 00 D0"), BMS_OK);
	expect_req(d, &c, "A5 40 90 08 00 00 00 00 00 00 00 00 7D");
	CHECK_EQ_INT(feed(d, &c, "A5 01 90 08 02 0E 00 00 75 30 02 2B 20"), BMS_OK);
	CHECK(c.have_back && c.back_raw == 555);
	uint8_t out[16];
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* with the date, board 2, over Bluetooth LE host 0x80 */
	struct bms_wchange t = { .key = BMS_W_SOC, .raw = 1000, .address = 2, .date = { 24, 6, 1, 12, 0, 0 } };
	expect_req(d, &t, "A5 41 21 08 18 06 01 0C 00 00 03 E8 25");
	struct bms_wchange r = { .key = BMS_W_SOC, .raw = 555, .address = 1 };
	CHECK_EQ_INT(feed(d, &r, "A5 01 21 08 00 00 00 00 00 00 00 00 CF"), BMS_E_REFUSED);
	CHECK_EQ_INT(d->writer->request(&r, out, sizeof(out)), 0);
	CHECK_EQ_INT(feed(d, &r, "A5 01 21 08 01 00 00 00 00 00 00 00 D1"), BMS_E_CHECKSUM);
	/* off the 0.1 % step, over 100 % */
	CHECK(bms_wfield_raw(&d->writer->field[BMS_W_SOC], 55.55, &raw, why, sizeof(why)) < 0);
	CHECK(bms_wfield_raw(&d->writer->field[BMS_W_SOC], 100.1, &raw, why, sizeof(why)) < 0);
}

#define JKPB_05 \
	"55aaeb900105e40c00005a0a0000960a0000420e0000aa0d000005000000ab0d00008c0a0000ac0d0000480d0000c4090000" \
	"f04902001e0000003c000000f04902001e0000003c00000005000000d0070000580200002602000058020000260200009cff" \
	"ffffceffffffe80300002003000008000000010000000100000001000000605b0300dc050000160d00000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000010000000500000060e3160050033c3218feffffff3fe901020000000050" \
	"0110161e00016587"

#define JK02_02 \
	"55aaeb90010a58020000280a0000540b0000420e0000ac0d00000a00000000000000000000000000000000000000c4090000" \
	"a86100001e0000003c00000050c300002c0100003c0000003c00000058020000c20100005e01000026020000c20100003200" \
	"00006400000084030000bc02000010000000010000000100000001000000a8610000dc050000ac0d00000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063" \
	"aa5590ebc8010100000000000000000000000044"

#define JK02_05 \
	"55aaeb90018b58020000280a00005a0a0000100e0000de0d00000a00000000000000000000000000000000000000c4090000" \
	"a86100001e0000003c000000400d03002c0100003c0000003c000000d0070000bc02000058020000bc0200005802000038ff" \
	"ffff9cffffffe80300002003000008000000010000000100000001000000a0860100dc050000b80b00000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000100000000000000b0710b0000000000007cf8ffff0f0000000000000095"

/* A record of the fixtures (hex) into b (at least 300 bytes), its field at
 * off set to v (off 0: as it is) and its sum fixed: the frame's length. */
static int record(const char *h, uint8_t *b, size_t cap, unsigned off, uint32_t v)
{
	int n = check_hex(h, b, (int)cap);
	if (off) {
		b[off] = (uint8_t)v;
		b[off + 1] = (uint8_t)(v >> 8);
		b[off + 2] = (uint8_t)(v >> 16);
		b[off + 3] = (uint8_t)(v >> 24);
	}
	unsigned sum = 0;
	for (int i = 0; i < 299; i++)
		sum += b[i];
	b[299] = (uint8_t)sum;
	return n < 300 ? n : 300;
}

/* Each key: its value, the JK-PB settings register, the settings record's
 * offset (JK's V1.0 settings table as mr-manuel's JK-PB notes list it: 0x1000
 * + block offset, record = block offset + 6), the JK-PB frame at address 1 and
 * the JK02 frame (computed from the documents, checksums checked). */
static const struct {
	enum bms_wkey key;
	double value;
	unsigned off;
	const char *pb, *ble;
} jk_keys[] = {
	{ BMS_W_CELL_UVP_V, 2.8, 10, "01 10 10 04 00 02 04 00 00 0A F0 39 78",
	  "AA 55 90 EB 02 04 F0 0A 00 00 00 00 00 00 00 00 00 00 00 7A" },
	{ BMS_W_CELL_UVP_RELEASE_V, 3.0, 14, "01 10 10 08 00 02 04 00 00 0B B8 38 8B",
	  "AA 55 90 EB 03 04 B8 0B 00 00 00 00 00 00 00 00 00 00 00 44" },
	{ BMS_W_CELL_OVP_V, 3.6, 18, "01 10 10 0C 00 02 04 00 00 0E 10 3B 96",
	  "AA 55 90 EB 04 04 10 0E 00 00 00 00 00 00 00 00 00 00 00 A0" },
	{ BMS_W_CELL_OVP_RELEASE_V, 3.4, 22, "01 10 10 10 00 02 04 00 00 0D 48 3B C5",
	  "AA 55 90 EB 05 04 48 0D 00 00 00 00 00 00 00 00 00 00 00 D8" },
	{ BMS_W_BALANCE_DELTA_V, 0.01, 26, "01 10 10 14 00 02 04 00 00 00 0A BE 97",
	  "AA 55 90 EB 06 04 0A 00 00 00 00 00 00 00 00 00 00 00 00 8E" },
	{ BMS_W_CHARGE_OCP_A, 100, 50, "01 10 10 2C 00 02 04 00 01 86 A0 0F FA",
	  "AA 55 90 EB 0C 04 A0 86 01 00 00 00 00 00 00 00 00 00 00 B1" },
	{ BMS_W_DISCHARGE_OCP_A, 150.5, 62, "01 10 10 38 00 02 04 00 02 4B E4 AB A6",
	  "AA 55 90 EB 0F 04 E4 4B 02 00 00 00 00 00 00 00 00 00 00 BE" },
	{ BMS_W_BALANCER, 0, 126, "01 10 10 78 00 02 04 00 00 00 00 38 ED",
	  "AA 55 90 EB 1F 04 00 00 00 00 00 00 00 00 00 00 00 00 00 9D" },
	{ BMS_W_CAPACITY_AH, 280, 130, "01 10 10 7C 00 02 04 00 04 45 C0 4A 1F",
	  "AA 55 90 EB 20 04 C0 45 04 00 00 00 00 00 00 00 00 00 00 A7" },
	{ BMS_W_BALANCE_START_V, 3.44, 138, "01 10 10 84 00 02 04 00 00 0D 70 32 88",
	  "AA 55 90 EB 22 04 70 0D 00 00 00 00 00 00 00 00 00 00 00 1D" },
};
#define NJK ((int)(sizeof(jk_keys) / sizeof(jk_keys[0])))

/* Every key: its frame, its acknowledgement, the trigger, the read-back
 * (the record with the value, then its acknowledgement: done). */
static void jkpb_keys(void)
{
	const struct bms_driver *d = &bms_jk_pb_driver;
	uint8_t rec[400], out[32];
	char why[160];
	CHECK_EQ_INT(bms_writer_keys(d->writer, BMS_LINK_WIRE), (int)(BMS_W_ALL & ~BMS_W_BIT(BMS_W_SOC)));
	for (int i = 0; i < NJK; i++) {
		struct bms_wchange c = { .key = (uint8_t)jk_keys[i].key, .address = 1 };
		int64_t raw = -1;
		CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[c.key], jk_keys[i].value, &raw, why, sizeof(why)), 0);
		c.raw = raw;
		expect_req(d, &c, jk_keys[i].pb);
		uint8_t ack[16];
		CHECK_EQ_INT(check_hex(jk_keys[i].pb, ack, 16), 13); /* its head, a CRC of its own */
		ack[5] = 2;
		uint16_t crc = bms_crc16_modbus(ack, 6);
		ack[6] = (uint8_t)crc;
		ack[7] = (uint8_t)(crc >> 8);
		CHECK_EQ_INT(d->writer->answer(&c, ack, 8), BMS_OK);
		expect_req(d, &c, "01 10 16 1E 00 01 02 00 00 D2 2F");
		int n = record(JKPB_05, rec, sizeof(rec), jk_keys[i].off, (uint32_t)raw);
		CHECK_EQ_INT(d->writer->answer(&c, rec, (size_t)n), BMS_E_UNEXPECTED); /* its acknowledgement comes */
		CHECK(!c.have_back);
		CHECK_EQ_INT(feed(d, &c, "01 10 16 1E 00 01 65 87"), BMS_OK);
		CHECK(c.have_back && c.back_raw == raw);
		CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	}
	/* the captured frames of txubelaxu's component, address 2 */
	int64_t raw;
	struct bms_wchange s = { .key = BMS_W_BALANCE_START_V, .address = 2 };
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_BALANCE_START_V], 3.44, &raw, why, sizeof(why)), 0);
	s.raw = raw;
	expect_req(d, &s, "02 10 10 84 00 02 04 00 00 0D 70 3D CC");
	struct bms_wchange b = { .key = BMS_W_BALANCER, .address = 2, .raw = 1 };
	expect_req(d, &b, "02 10 10 78 00 02 04 00 00 00 01 F6 69");
}

static void jkpb_answers(void)
{
	const struct bms_driver *d = &bms_jk_pb_driver;
	uint8_t rec[400], out[32];
	struct bms_wchange c = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .address = 1 };
	expect_req(d, &c, "01 10 10 0C 00 02 04 00 00 0E 10 3B 96");
	CHECK_EQ_INT(feed(d, &c, "01 10 10 0C 00 02 04 00 00 0E 10 3B 96"), BMS_E_UNEXPECTED); /* our echo */
	CHECK_EQ_INT(feed(d, &c, "01 10 16 20 00 01 04 4B"), BMS_E_UNEXPECTED);  /* a status trigger's ack, late */
	CHECK_EQ_INT(feed(d, &c, "01 10 10 84 00 02 05 21"), BMS_E_UNEXPECTED);  /* another register's */
	CHECK_EQ_INT(feed(d, &c, "01 10 10 0C 00 02 85 0A"), BMS_E_CHECKSUM);    /* a bad CRC */
	CHECK_EQ_INT(c.step, 0);
	CHECK_EQ_INT(feed(d, &c, "01 10 10 0C 00 02 85 0B"), BMS_OK);
	/* the acknowledgement first, then the record: JKPB-05 shows 3.650 V, not 3.600 */
	expect_req(d, &c, "01 10 16 1E 00 01 02 00 00 D2 2F");
	CHECK_EQ_INT(feed(d, &c, "01 10 16 1E 00 01 65 87"), BMS_E_UNEXPECTED);
	int n = record(JKPB_05, rec, sizeof(rec), 0, 0);
	CHECK_EQ_INT(d->writer->answer(&c, rec, (size_t)n), BMS_OK);
	CHECK(c.have_back && c.back_raw == 3650); /* the read-back disagrees: the gateway says failed */
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* a record followed by another address's acknowledgement was that pack's */
	struct bms_wchange o = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .address = 1, .step = 1 };
	CHECK_EQ_INT(d->writer->request(&o, out, sizeof(out)), 11);
	n = record(JKPB_05, rec, sizeof(rec), 18, 3600);
	CHECK_EQ_INT(d->writer->answer(&o, rec, (size_t)n), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(feed(d, &o, "02 10 16 1E 00 01 65 B4"), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(feed(d, &o, "01 10 16 1E 00 01 65 87"), BMS_E_UNEXPECTED); /* ours: its record still to come */
	CHECK(!o.have_back);
	/* the trigger sent again (no whole answer): both halves anew */
	CHECK_EQ_INT(d->writer->request(&o, out, sizeof(out)), 11);
	CHECK_EQ_INT(d->writer->answer(&o, rec, (size_t)n), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(feed(d, &o, "01 10 16 1E 00 01 65 87"), BMS_OK);
	CHECK(o.have_back && o.back_raw == 3600);
	/* a record with a bad sum; a status record (type 2) is no read-back */
	struct bms_wchange q = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .address = 1, .step = 1 };
	n = record(JKPB_05, rec, sizeof(rec), 0, 0);
	rec[299] ^= 1;
	CHECK_EQ_INT(d->writer->answer(&q, rec, (size_t)n), BMS_E_CHECKSUM);
	rec[299] ^= 1;
	rec[4] = 2;
	rec[299] = (uint8_t)(rec[299] + 1);
	CHECK_EQ_INT(d->writer->answer(&q, rec, (size_t)n), BMS_E_UNEXPECTED);
	/* the BMS refuses the write (exception 04): nothing more is sent */
	struct bms_wchange r = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .address = 1 };
	CHECK_EQ_INT(d->writer->request(&r, out, sizeof(out)), 13);
	CHECK_EQ_INT(feed(d, &r, "01 90 04 4D C2"), BMS_E_CHECKSUM);
	CHECK_EQ_INT(feed(d, &r, "01 90 04 4D C3"), BMS_E_REFUSED);
	CHECK(r.refused);
	CHECK_EQ_INT(d->writer->request(&r, out, sizeof(out)), 0);
	/* the read-back's trigger refused: no read-back */
	struct bms_wchange t = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .address = 1, .step = 1 };
	CHECK_EQ_INT(feed(d, &t, "01 90 02 CD C1"), BMS_E_REFUSED);
	CHECK(!t.refused && !t.have_back);
	CHECK_EQ_INT(d->writer->request(&t, out, sizeof(out)), 0);
	/* given up (no answer after the retries): nothing more */
	struct bms_wchange g = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .address = 1, .quit = true };
	CHECK_EQ_INT(d->writer->request(&g, out, sizeof(out)), 0);
	/* no address 0 (a bus master) or 16; a raw value outside the field */
	struct bms_wchange a = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .address = 0 };
	CHECK_EQ_INT(d->writer->request(&a, out, sizeof(out)), BMS_E_RANGE);
	a.address = 16;
	CHECK_EQ_INT(d->writer->request(&a, out, sizeof(out)), BMS_E_RANGE);
	struct bms_wchange v = { .key = BMS_W_CELL_OVP_V, .raw = 4351, .address = 1 };
	CHECK_EQ_INT(d->writer->request(&v, out, sizeof(out)), BMS_E_RANGE);
	struct bms_wchange soc = { .key = BMS_W_SOC, .raw = 500, .address = 1 };
	CHECK_EQ_INT(d->writer->request(&soc, out, sizeof(out)), BMS_E_RANGE);
	/* the framer hands the acknowledgement of a setting over, skips our echo */
	struct bms_poll poll = { 0 };
	size_t k;
	uint8_t f[16];
	CHECK_EQ_INT(check_hex("01 10 10 0C 00 02 85 0B", f, 16), 8);
	CHECK_EQ_INT(d->scan(&poll, f, 8, &k), BMS_SCAN_FRAME);
	CHECK_EQ_INT(check_hex("01 10 10 0C 00 02 04 00 00 0E 10 3B 96", f, 16), 13);
	CHECK_EQ_INT(d->scan(&poll, f, 13, &k), BMS_SCAN_SKIP);
	CHECK_EQ_INT((int)k, 13);
}

/* The heater (§6.9): 0x1114's UINT32 holds its bit 0 beside the other
 * control bits and the heating temperatures: the settings record read
 * first (282..285), the word written back with bit 0 alone changed, bit 0
 * read back; refusals and a lost half of the read as for the read-back. */
static void jkpb_heater(void)
{
	const struct bms_driver *d = &bms_jk_pb_driver;
	uint8_t rec[400], out[32];
	char why[160];
	int64_t raw = -1;
	CHECK(d->writer->field[BMS_W_HEATER].reg == 0x1114);
	CHECK(bms_writer_keys(d->writer, BMS_LINK_WIRE) & BMS_W_BIT(BMS_W_HEATER));
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_HEATER], 1, &raw, why, sizeof(why)), 0);
	CHECK_EQ_INT(raw, 1);
	CHECK(bms_wfield_raw(&d->writer->field[BMS_W_HEATER], 2, &raw, why, sizeof(why)) < 0);
	/* on: control bits 0x0010, start -5 degC, stop 10 degC kept */
	struct bms_wchange c = { .key = BMS_W_HEATER, .raw = 1, .address = 1 };
	expect_req(d, &c, "01 10 16 1E 00 01 02 00 00 D2 2F"); /* the read first */
	CHECK(!c.wrote);
	int n = record(JKPB_05, rec, sizeof(rec), 282, 0x0AFB0010u);
	CHECK_EQ_INT(d->writer->answer(&c, rec, (size_t)n), BMS_E_UNEXPECTED); /* its acknowledgement comes */
	CHECK_EQ_INT(feed(d, &c, "01 10 16 1E 00 01 65 87"), BMS_OK);
	CHECK(c.have_old && c.old_raw == 0 && c.rmw == 0x0AFB0010u);
	expect_req(d, &c, "01 10 11 14 00 02 04 0A FB 00 11 81 25");
	CHECK(c.wrote);
	CHECK_EQ_INT(feed(d, &c, "01 10 11 14 00 02 04 F0"), BMS_OK);
	expect_req(d, &c, "01 10 16 1E 00 01 02 00 00 D2 2F"); /* the read-back */
	n = record(JKPB_05, rec, sizeof(rec), 282, 0x0AFB0011u);
	CHECK_EQ_INT(feed(d, &c, "01 10 16 1E 00 01 65 87"), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(d->writer->answer(&c, rec, (size_t)n), BMS_OK);
	CHECK(c.have_back && c.back_raw == 1);
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* off: bit 0 cleared, the rest as read */
	struct bms_wchange o = { .key = BMS_W_HEATER, .raw = 0, .address = 1 };
	CHECK_EQ_INT(d->writer->request(&o, out, sizeof(out)), 11);
	n = record(JKPB_05, rec, sizeof(rec), 282, 0x0AFB0011u);
	CHECK_EQ_INT(feed(d, &o, "01 10 16 1E 00 01 65 87"), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(d->writer->answer(&o, rec, (size_t)n), BMS_OK);
	CHECK(o.old_raw == 1);
	expect_req(d, &o, "01 10 11 14 00 02 04 0A FB 00 10 40 E5");
	/* address 2: start 5, stop 10, nothing else set */
	struct bms_wchange a = { .key = BMS_W_HEATER, .raw = 1, .address = 2, .have_old = true, .rmw = 0x0A050000u };
	expect_req(d, &a, "02 10 11 14 00 02 04 0A 05 00 01 EE 5D");
	/* the read refused: nothing written */
	struct bms_wchange r = { .key = BMS_W_HEATER, .raw = 1, .address = 1 };
	CHECK_EQ_INT(d->writer->request(&r, out, sizeof(out)), 11);
	CHECK_EQ_INT(feed(d, &r, "01 90 04 4D C3"), BMS_E_REFUSED);
	CHECK(r.refused && !r.wrote);
	CHECK_EQ_INT(d->writer->request(&r, out, sizeof(out)), 0);
	/* the read's record of another address (its acknowledgement after it):
	 * not ours; the trigger again asks both halves anew */
	struct bms_wchange p = { .key = BMS_W_HEATER, .raw = 1, .address = 1 };
	CHECK_EQ_INT(d->writer->request(&p, out, sizeof(out)), 11);
	n = record(JKPB_05, rec, sizeof(rec), 282, 0x0AFB0010u);
	CHECK_EQ_INT(d->writer->answer(&p, rec, (size_t)n), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(feed(d, &p, "02 10 16 1E 00 01 65 B4"), BMS_E_UNEXPECTED);
	CHECK(!p.have_old);
	CHECK_EQ_INT(d->writer->request(&p, out, sizeof(out)), 11); /* the trigger again, not the write */
	CHECK(!p.wrote);
	/* jk-ble has no heater field: not writable there */
	CHECK(!(bms_writer_keys(bms_jk_ble_driver.writer, BMS_LINK_BLE) & BMS_W_BIT(BMS_W_HEATER)));
	CHECK(bms_wkey_switch(BMS_W_HEATER) && bms_wkey_switch(BMS_W_BALANCER) && !bms_wkey_switch(BMS_W_SOC));
}

static void jkble_keys(void)
{
	const struct bms_driver *d = &bms_jk_ble_driver;
	uint8_t rec[400], out[32];
	char why[160];
	CHECK_EQ_INT(bms_writer_keys(d->writer, BMS_LINK_BLE),
		     (int)(BMS_W_ALL & ~(BMS_W_BIT(BMS_W_SOC) | BMS_W_BIT(BMS_W_HEATER)))); /* no heater field */
	CHECK_EQ_INT(bms_writer_keys(d->writer, BMS_LINK_WIRE), 0);
	for (int i = 0; i < NJK; i++) {
		struct bms_wchange c = { .key = (uint8_t)jk_keys[i].key, .link = BMS_LINK_BLE, .persist = 0x1 };
		int64_t raw = -1;
		CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[c.key], jk_keys[i].value, &raw, why, sizeof(why)), 0);
		c.raw = raw;
		expect_req(d, &c, jk_keys[i].ble);
		CHECK_EQ_INT(feed(d, &c, jk_keys[i].ble), BMS_E_UNEXPECTED); /* our request, echoed */
		CHECK_EQ_INT(feed(d, &c, "AA 55 90 EB C8 01 01 00 00 00 00 00 00 00 00 00 00 00 00 44"), BMS_OK);
		expect_req(d, &c, "AA 55 90 EB 96 00 00 00 00 00 00 00 00 00 00 00 00 00 00 10");
		CHECK_EQ_INT(feed(d, &c, "AA 55 90 EB C8 01 01 00 00 00 00 00 00 00 00 00 00 00 00 44"),
			     BMS_E_UNEXPECTED); /* the read-back's: no record */
		int n = record(JK02_05, rec, sizeof(rec), jk_keys[i].off, (uint32_t)raw);
		CHECK_EQ_INT(d->writer->answer(&c, rec, (size_t)n), BMS_OK);
		CHECK(c.have_back && c.back_raw == raw);
		CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	}
	/* syssi/esphome-jk-bms#128's tested frames: cell OVP 3.65 V, trigger 0.003 V,
	 * the JK02_24S balancing start 1.2 V (register 0x26 there) */
	struct bms_wchange o = { .key = BMS_W_CELL_OVP_V, .raw = 3650 };
	expect_req(d, &o, "AA 55 90 EB 04 04 42 0E 00 00 00 00 00 00 00 00 00 00 00 D2");
	struct bms_wchange t = { .key = BMS_W_BALANCE_DELTA_V, .raw = 3 };
	expect_req(d, &t, "AA 55 90 EB 06 04 03 00 00 00 00 00 00 00 00 00 00 00 00 87");
	struct bms_wchange b = { .key = BMS_W_BALANCE_START_V, .raw = 1200, .persist = 0x3 };
	expect_req(d, &b, "AA 55 90 EB 26 04 B0 04 00 00 00 00 00 00 00 00 00 00 00 58");
}

static void jkble_answers(void)
{
	const struct bms_driver *d = &bms_jk_ble_driver;
	uint8_t rec[400], out[32];
	/* the 0xC8 acknowledgement proves nothing: JK02-05 still shows OVP 3.600 V */
	struct bms_wchange c = { .key = BMS_W_CELL_OVP_V, .raw = 3550, .persist = 0x1 };
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 20);
	int n = record(JK02_05, rec, sizeof(rec), 0, 0);
	CHECK_EQ_INT(d->writer->answer(&c, rec, (size_t)n), BMS_E_UNEXPECTED); /* no record before the 0x96 */
	CHECK_EQ_INT(feed(d, &c, "AA 55 90 EB C8 01 01 00 00 00 00 00 00 00 00 00 00 00 00 45"), BMS_E_CHECKSUM);
	CHECK_EQ_INT(feed(d, &c, "AA 55 90 EB C8 01 01 00 00 00 00 00 00 00 00 00 00 00 00 44"), BMS_OK);
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 20);
	n = record(JK02_05, rec, sizeof(rec), 0, 0);
	rec[4] = 2; /* a streamed cell record (type 2) */
	rec[299] = (uint8_t)(rec[299] + 1);
	CHECK_EQ_INT(d->writer->answer(&c, rec, (size_t)n), BMS_E_UNEXPECTED);
	n = record(JK02_05, rec, sizeof(rec), 0, 0);
	rec[299] ^= 1;
	CHECK_EQ_INT(d->writer->answer(&c, rec, (size_t)n), BMS_E_CHECKSUM);
	rec[299] ^= 1;
	CHECK_EQ_INT(d->writer->answer(&c, rec, (size_t)n), BMS_OK);
	CHECK(c.have_back && c.back_raw == 3600); /* not the 3550 written: failed */
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* JK02_24S (JK02-02, 8.0.6G): the balancing start written to 0x26 and read at 138 */
	struct bms_wchange s = { .key = BMS_W_BALANCE_START_V, .raw = 3400, .persist = 0x3, .step = 1 };
	n = record(JK02_02, rec, sizeof(rec), 138, 3400);
	CHECK_EQ_INT(d->writer->answer(&s, rec, (size_t)n), BMS_OK);
	CHECK(s.have_back && s.back_raw == 3400);
	struct bms_wchange u = { .key = BMS_W_BALANCE_START_V, .raw = 3400, .persist = 0x3, .step = 1 };
	n = record(JK02_02, rec, sizeof(rec), 0, 0);
	CHECK_EQ_INT(d->writer->answer(&u, rec, (size_t)n), BMS_OK);
	CHECK(u.back_raw == 3500);
	/* given up; a key it does not write; a raw value outside the field */
	struct bms_wchange g = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .quit = true };
	CHECK_EQ_INT(d->writer->request(&g, out, sizeof(out)), 0);
	struct bms_wchange soc = { .key = BMS_W_SOC, .raw = 500 };
	CHECK_EQ_INT(d->writer->request(&soc, out, sizeof(out)), BMS_E_RANGE);
	struct bms_wchange v = { .key = BMS_W_CAPACITY_AH, .raw = 1999 };
	CHECK_EQ_INT(d->writer->request(&v, out, sizeof(out)), BMS_E_RANGE);
	/* the framer hands the acknowledgement over (a poll ignores it), skips our request */
	struct bms_poll poll = { 0 };
	size_t k;
	uint8_t f[32];
	CHECK_EQ_INT(check_hex("AA 55 90 EB C8 01 01 00 00 00 00 00 00 00 00 00 00 00 00 44", f, 32), 20);
	CHECK_EQ_INT(d->scan(&poll, f, 20, &k), BMS_SCAN_FRAME);
	CHECK_EQ_INT(d->handle(&poll, f, 20), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(check_hex("AA 55 90 EB 04 04 10 0E 00 00 00 00 00 00 00 00 00 00 00 A0", f, 32), 20);
	CHECK_EQ_INT(d->scan(&poll, f, 20, &k), BMS_SCAN_SKIP);
}

/* The JK families' effective ranges: the protocol's (ESPHome's) within the
 * chemistry's and B4's. */
static void jk_bounds(void)
{
	double lo, hi, step;
	const struct bms_writer *w = bms_jk_pb_driver.writer;
	gw_wset_range(w, BMS_W_CELL_OVP_V, CONF_CHEM_LTO, &lo, &hi, &step);
	CHECK_NEAR(lo, 1.5, 1e-9);
	CHECK_NEAR(hi, 2.8, 1e-9);
	CHECK_NEAR(step, 0.001, 1e-12);
	gw_wset_range(w, BMS_W_BALANCE_DELTA_V, CONF_CHEM_LFP, &lo, &hi, &step);
	CHECK_NEAR(lo, 0.003, 1e-9);
	CHECK_NEAR(hi, 0.5, 1e-9);
	gw_wset_range(w, BMS_W_CHARGE_OCP_A, CONF_CHEM_LFP, &lo, &hi, &step);
	CHECK_NEAR(lo, 1.0, 1e-9);
	CHECK_NEAR(hi, 600.0, 1e-9);
	CHECK_NEAR(step, 0.001, 1e-12);
	gw_wset_range(w, BMS_W_DISCHARGE_OCP_A, CONF_CHEM_LFP, &lo, &hi, &step);
	CHECK_NEAR(hi, 1000.0, 1e-9);
	gw_wset_range(w, BMS_W_CAPACITY_AH, CONF_CHEM_LFP, &lo, &hi, &step);
	CHECK_NEAR(lo, 2.0, 1e-9);
	CHECK_NEAR(hi, 10000.0, 1e-9);
	gw_wset_range(bms_jk_ble_driver.writer, BMS_W_BALANCE_START_V, CONF_CHEM_NMC, &lo, &hi, &step);
	CHECK_NEAR(lo, 3.0, 1e-9);
	CHECK_NEAR(hi, 4.2, 1e-9);
	struct bms_settings s = { 0 };
	bms_settings_put(&s, BMS_SET_CELL_OVP_V, 3.65f);
	bms_settings_put(&s, BMS_SET_CELL_OVP_RELEASE_V, 3.44f);
	bms_settings_put(&s, BMS_SET_CELL_UVP_RELEASE_V, 2.90f);
	bms_settings_put(&s, BMS_SET_CELL_UVP_V, 2.70f);
	bms_settings_put(&s, BMS_SET_BALANCE_START_V, 3.35f);
	char why[200];
	int64_t raw;
	struct gw_wset_ask a = { BMS_W_CELL_OVP_V, 3.6, w, w->wire, CONF_CHEM_LFP, &s };
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 0);
	CHECK_EQ_INT((int)raw, 3600);
	a.value = 3.66; /* over lfp's */
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 422);
	a.value = 3.6005; /* off the 1 mV step: never rounded */
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 422);
	a.value = 3.45; /* 0.01 V over its release */
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 422);
	struct gw_wset_ask c = { BMS_W_CHARGE_OCP_A, 100.0005, w, w->wire, CONF_CHEM_LFP, &s };
	CHECK_EQ_INT(gw_wset_check(&c, &raw, why, sizeof(why)), 422);
	c.value = 100.001;
	CHECK_EQ_INT(gw_wset_check(&c, &raw, why, sizeof(why)), 0);
	CHECK_EQ_INT((int)raw, 100001);
	c.value = 600.001;
	CHECK_EQ_INT(gw_wset_check(&c, &raw, why, sizeof(why)), 422);
}

/* One D2 change, every step: key, value, the read (old), its answer, the
 * write, the read-back's answer, the raw values old and read back. */
static const struct {
	enum bms_wkey key;
	double value;
	const char *read, *old, *write, *back;
	int64_t old_raw, back_raw;
} d2_rows[] = {
	{ BMS_W_CELL_OVP_V, 3.6, "D2 03 00 8C 00 02 16 43", "D2 03 04 0D AC 0A 28 DC CD", "D2 06 00 8C 0E 10 5E 2E",
	  "D2 03 04 0E 10 0A 28 1D 6D", 3500, 3600 },
	{ BMS_W_CELL_UVP_V, 2.8, "D2 03 00 8E 00 02 B7 83", "D2 03 04 0A 28 0D AC 9F C3", "D2 06 00 8E 0A F0 FC A6",
	  "D2 03 04 0A F0 0D AC 1F F8", 2600, 2800 },
	{ BMS_W_BALANCE_START_V, 3.4, "D2 03 00 A3 00 02 27 8A", "D2 03 04 0C 80 00 14 1A 49",
	  "D2 06 00 A3 0D 48 6E ED", "D2 03 04 0D 48 00 14 9A 4B", 3200, 3400 },
	{ BMS_W_BALANCE_DELTA_V, 0.015, "D2 03 00 A4 00 02 96 4B", "D2 03 04 00 14 00 01 99 3A",
	  "D2 06 00 A4 00 0F 9B 8E", "D2 03 04 00 0F 00 01 E9 3D", 20, 15 },
	{ BMS_W_CAPACITY_AH, 280, "D2 03 00 80 00 02 D6 40", "D2 03 04 04 1A 00 00 38 09", "D2 06 00 80 0A F0 9D 65",
	  "D2 03 04 0A F0 00 00 1B 15", 1050, 2800 },
	/* the SOC: written to 0xA7, read from 0x2A (the status read's) */
	{ BMS_W_SOC, 55.5, "D2 03 00 2A 00 02 F6 60", "D2 03 04 02 A8 0C E4 9D ED", "D2 06 00 A7 02 2B 6A F5",
	  "D2 03 04 02 2B 0C E4 6C 05", 680, 555 },
	/* the balancer switch: one register, as ESPHome reads it */
	{ BMS_W_BALANCER, 0, "D2 03 00 CF 00 01 A7 96", "D2 03 02 00 01 FC 56", "D2 06 00 CF 00 00 AA 56",
	  "D2 03 02 00 00 3D 96", 1, 0 },
	/* DALYN-08's levels: charge 29900 (under 30000: 100 A is 29000), discharge 30160 (over: 31500) */
	{ BMS_W_CHARGE_OCP_A, 100, "D2 03 00 94 00 02 96 44", "D2 03 04 74 CC 74 90 E4 5D", "D2 06 00 94 71 48 FF E3",
	  "D2 03 04 71 48 74 90 A4 B8", 100, 1000 },
	{ BMS_W_DISCHARGE_OCP_A, 150, "D2 03 00 96 00 02 37 84", "D2 03 04 75 D0 00 00 03 0B",
	  "D2 06 00 96 7B 0C 58 B0", "D2 03 04 7B 0C 00 00 C0 19", 160, 1500 },
};

/* A D2 pack over Bluetooth LE whose polls found the D2 dialect (persist
 * DM_P_KNOWN, not DM_P_P81). */
static struct bms_wchange d2_change(enum bms_wkey k, int64_t raw)
{
	return (struct bms_wchange){ .key = (uint8_t)k, .raw = raw, .address = 1, .link = BMS_LINK_BLE, .persist = 1 };
}

static void daly_modbus_d2(void)
{
	const struct bms_driver *d = &bms_daly_modbus_driver;
	char why[160];
	uint8_t out[32];
	for (size_t i = 0; i < sizeof(d2_rows) / sizeof(d2_rows[0]); i++) {
		int64_t raw;
		CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[d2_rows[i].key], d2_rows[i].value, &raw, why, sizeof(why)),
			     0);
		CHECK_EQ_INT(raw, d2_rows[i].back_raw);
		struct bms_wchange c = d2_change(d2_rows[i].key, raw);
		expect_req(d, &c, d2_rows[i].read);
		CHECK_EQ_INT(feed(d, &c, d2_rows[i].read), BMS_E_UNEXPECTED);   /* our request: no answer */
		if (d2_rows[i].key != BMS_W_BALANCER)                              /* a poll's late balancer read */
			CHECK_EQ_INT(feed(d, &c, "D2 03 02 00 01 FC 56"), BMS_E_UNEXPECTED);
		CHECK_EQ_INT(feed(d, &c, d2_rows[i].old), BMS_OK);
		CHECK(c.have_old && c.old_raw == d2_rows[i].old_raw);
		expect_req(d, &c, d2_rows[i].write);
		CHECK_EQ_INT(feed(d, &c, "D2 06 00 A5 00 01 4B 8A"), BMS_E_UNEXPECTED); /* a MOSFET write's echo */
		CHECK_EQ_INT(feed(d, &c, d2_rows[i].write), BMS_OK);             /* the echo: received, no more */
		CHECK(!c.have_back);
		expect_req(d, &c, d2_rows[i].read);
		CHECK_EQ_INT(feed(d, &c, d2_rows[i].back), BMS_OK);
		CHECK(c.have_back && c.back_raw == d2_rows[i].back_raw && !c.refused);
		CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
		CHECK_EQ_INT(feed(d, &c, d2_rows[i].back), BMS_E_UNEXPECTED);     /* over: nothing is an answer */
	}
	/* the matrix: the D2 keys over Bluetooth LE, none on a wire */
	CHECK_EQ_INT(bms_writer_keys(d->writer, BMS_LINK_WIRE), 0);
	CHECK_EQ_INT(bms_writer_keys(d->writer, BMS_LINK_BLE),
		     BMS_W_ALL & ~(BMS_W_BIT(BMS_W_CELL_OVP_RELEASE_V) | BMS_W_BIT(BMS_W_CELL_UVP_RELEASE_V) |
				   BMS_W_BIT(BMS_W_HEATER)));
	/* off the step (0.1 %, 1 mV, 0.1 A, 0.1 Ah), out of the protocol's range: refused, never rounded */
	int64_t raw;
	const struct bms_wfield *fl = d->writer->field;
	CHECK(bms_wfield_raw(&fl[BMS_W_SOC], 55.55, &raw, why, sizeof(why)) < 0);
	CHECK(bms_wfield_raw(&fl[BMS_W_SOC], 100.1, &raw, why, sizeof(why)) < 0);
	CHECK(bms_wfield_raw(&fl[BMS_W_CELL_OVP_V], 3.6005, &raw, why, sizeof(why)) < 0);
	CHECK(bms_wfield_raw(&fl[BMS_W_CHARGE_OCP_A], 100.05, &raw, why, sizeof(why)) < 0);
	CHECK(bms_wfield_raw(&fl[BMS_W_DISCHARGE_OCP_A], 3000.1, &raw, why, sizeof(why)) < 0);
	CHECK(bms_wfield_raw(&fl[BMS_W_CAPACITY_AH], 280.05, &raw, why, sizeof(why)) < 0);
	CHECK(bms_wfield_raw(&fl[BMS_W_BALANCER], 0.5, &raw, why, sizeof(why)) < 0);
	CHECK(bms_wfield_raw(&fl[BMS_W_CELL_OVP_RELEASE_V], 3.4, &raw, why, sizeof(why)) < 0);
}

static void daly_modbus_d2_refused(void)
{
	const struct bms_driver *d = &bms_daly_modbus_driver;
	uint8_t out[32];
	/* the write refused (exception 04): nothing more is sent */
	struct bms_wchange c = d2_change(BMS_W_CELL_OVP_V, 3600);
	CHECK_EQ_INT(feed(d, &c, "D2 03 04 0D AC 0A 28 DC CD"), BMS_OK);
	CHECK_EQ_INT(feed(d, &c, "D2 83 02 31 08"), BMS_E_UNEXPECTED);      /* a read's exception: not the write's */
	CHECK_EQ_INT(feed(d, &c, "D2 86 04 B2 5A"), BMS_E_REFUSED);
	CHECK(c.refused && !c.have_back);
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* the read refused (exception 02): nothing is written */
	struct bms_wchange r = d2_change(BMS_W_BALANCER, 0);
	CHECK_EQ_INT(feed(d, &r, "D2 83 02 31 08"), BMS_E_REFUSED);
	CHECK_EQ_INT(d->writer->request(&r, out, sizeof(out)), 0);
	/* a read-back that disagrees: the BMS kept 3.500 V (the gateway's verdict: failed) */
	struct bms_wchange w = d2_change(BMS_W_CELL_OVP_V, 3600);
	w.step = 2;
	CHECK_EQ_INT(feed(d, &w, "D2 03 04 0D AC 0A 28 DC CD"), BMS_OK);
	CHECK(w.have_back && w.back_raw == 3500);
	CHECK_EQ_INT(d->writer->request(&w, out, sizeof(out)), 0);
	/* the echo of another value is not this write's */
	struct bms_wchange e = d2_change(BMS_W_CELL_OVP_V, 3600);
	e.step = 1;
	CHECK_EQ_INT(feed(d, &e, "D2 06 00 8C 0D AC 5F 6F"), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(e.step, 1);
	/* broken: a bad CRC, a cut answer, a read answer of the wrong length */
	struct bms_wchange b = d2_change(BMS_W_CELL_OVP_V, 3600);
	CHECK_EQ_INT(feed(d, &b, "D2 03 04 0D AC 0A 28 DC CE"), BMS_E_CHECKSUM);
	CHECK_EQ_INT(feed(d, &b, "D2 03 04"), BMS_E_SHORT);
	CHECK_EQ_INT(feed(d, &b, "D2 03 06 0D AC 0A 28 00 00 BA 95"), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(feed(d, &b, "51 03 04 0D AC 0A 28 DC CD"), BMS_E_UNEXPECTED);  /* not from 0xD2 */
	CHECK_EQ_INT(b.step, 0);
	/* an over-current register at 30000 (0 A): its side is not known, nothing is written */
	struct bms_wchange z = d2_change(BMS_W_CHARGE_OCP_A, 1000);
	CHECK_EQ_INT(feed(d, &z, "D2 03 04 75 30 00 00 02 FD"), BMS_E_RANGE);
	CHECK_EQ_INT(z.step, 0);
	z.quit = true; /* the gateway gives up on a bad answer */
	CHECK_EQ_INT(d->writer->request(&z, out, sizeof(out)), 0);
	/* read under 30000, written under it; read back over it: no match */
	struct bms_wchange s = d2_change(BMS_W_CHARGE_OCP_A, 1000);
	CHECK_EQ_INT(feed(d, &s, "D2 03 04 74 CC 74 90 E4 5D"), BMS_OK);
	expect_req(d, &s, "D2 06 00 94 71 48 FF E3");
	CHECK_EQ_INT(feed(d, &s, "D2 06 00 94 71 48 FF E3"), BMS_OK);
	CHECK_EQ_INT(feed(d, &s, "D2 03 04 79 18 74 90 A6 C9"), BMS_OK);    /* 31000: +100 A */
	CHECK(s.have_back && s.back_raw == -1000);
	/* read over 30000: written over it */
	struct bms_wchange u = d2_change(BMS_W_CHARGE_OCP_A, 1000);
	CHECK_EQ_INT(feed(d, &u, "D2 03 04 75 D0 00 00 03 0B"), BMS_OK);
	CHECK_EQ_INT(u.old_raw, 160);
	CHECK_EQ_INT(d->writer->request(&u, out, sizeof(out)), 8);
	CHECK(out[4] == 0x79 && out[5] == 0x18);
	/* the 0x81 dialect (learned over BLE), and a wire: no frame at all */
	struct bms_wchange p81 = d2_change(BMS_W_SOC, 500);
	p81.persist = 1 | 2;
	CHECK_EQ_INT(d->writer->request(&p81, out, sizeof(out)), BMS_E_INVALID);
	struct bms_wchange wire = d2_change(BMS_W_SOC, 500);
	wire.link = BMS_LINK_WIRE;
	CHECK_EQ_INT(d->writer->request(&wire, out, sizeof(out)), BMS_E_INVALID);
	CHECK(d->writer->none_wire != NULL && d->writer->none_ble != NULL);
	/* not known yet: the read in D2 comes first, and finds out */
	struct bms_wchange unk = d2_change(BMS_W_SOC, 500);
	unk.persist = 0;
	expect_req(d, &unk, "D2 03 00 2A 00 02 F6 60");
	/* a key the dialect does not write, a value out of its range */
	struct bms_wchange rel = d2_change(BMS_W_CELL_OVP_RELEASE_V, 3400);
	CHECK_EQ_INT(d->writer->request(&rel, out, sizeof(out)), BMS_E_RANGE);
	struct bms_wchange big = d2_change(BMS_W_SOC, 1001);
	CHECK_EQ_INT(d->writer->request(&big, out, sizeof(out)), BMS_E_RANGE);
}

/* The chemistry and the order with the D2 keys (no releases: they drop out of the chain). */
static void daly_modbus_bounds(void)
{
	const struct bms_writer *w = bms_daly_modbus_driver.writer;
	struct bms_settings s = { 0 };
	char why[200];
	int64_t raw;
	bms_settings_put(&s, BMS_SET_CELL_OVP_V, 3.5f);
	bms_settings_put(&s, BMS_SET_CELL_UVP_V, 2.6f);
	bms_settings_put(&s, BMS_SET_BALANCE_START_V, 3.2f);
	struct gw_wset_ask a = { BMS_W_CELL_OVP_V, 3.65, w, w->ble, CONF_CHEM_LFP, &s };
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 0);
	CHECK_EQ_INT(raw, 3650);
	a.value = 3.66;
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 422);   /* over lfp's */
	a.value = 3.2;
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 422);   /* not over the balance start */
	a.value = 2.61;
	a.key = BMS_W_CELL_UVP_V;
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 0);     /* no UVP release: under the OVP */
	a.value = 3.49;
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 422);   /* 0.01 V under the OVP */
	a.key = BMS_W_CELL_OVP_RELEASE_V;
	a.value = 3.4;
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 422);   /* not written by D2 */
	a.key = BMS_W_CHARGE_OCP_A;
	a.value = 3000;
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 0);
	a.value = 0.5;
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 422);   /* under 1 A */
	a.key = BMS_W_SOC;
	a.value = 42.5;
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 0);
	a.keys = w->wire;
	CHECK_EQ_INT(gw_wset_check(&a, &raw, why, sizeof(why)), 422);   /* on a wire: none */
	double lo, hi, step;
	gw_wset_range(w, BMS_W_DISCHARGE_OCP_A, CONF_CHEM_LFP, &lo, &hi, &step);
	CHECK_NEAR(lo, 1.0, 1e-9);
	CHECK_NEAR(hi, 3000.0, 1e-9);
	CHECK_NEAR(step, 0.1, 1e-12);
	gw_wset_range(w, BMS_W_CAPACITY_AH, CONF_CHEM_LFP, &lo, &hi, &step);
	CHECK_NEAR(hi, 6553.5, 1e-9);
}

static int ask(enum bms_wkey k, double v, enum conf_chemistry ch, const struct bms_settings *have, char *why)
{
	const struct bms_writer *w = bms_jbd_driver.writer;
	struct gw_wset_ask a = { k, v, w, w->wire, ch, have };
	int64_t raw;
	return gw_wset_check(&a, &raw, why, 200);
}

static void bounds(void)
{
	struct bms_settings s = { 0 };
	char why[200];
	bms_settings_put(&s, BMS_SET_CELL_OVP_V, 3.65f);
	bms_settings_put(&s, BMS_SET_CELL_OVP_RELEASE_V, 3.40f);
	bms_settings_put(&s, BMS_SET_CELL_UVP_RELEASE_V, 2.90f);
	bms_settings_put(&s, BMS_SET_CELL_UVP_V, 2.50f);
	bms_settings_put(&s, BMS_SET_BALANCE_START_V, 3.40f);
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.60, CONF_CHEM_LFP, &s, why), 0);
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.80, CONF_CHEM_LFP, &s, why), 422);
	CHECK(strstr(why, "lfp's highest 3.65 V") != NULL);
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 4.20, CONF_CHEM_NMC, &s, why), 0);     /* nmc: 3.00-4.20 */
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 2.80, CONF_CHEM_LTO, &s, why), 422);   /* under its release */
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.41, CONF_CHEM_LFP, &s, why), 422);   /* 0.01 V over the release */
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.42, CONF_CHEM_LFP, &s, why), 0);     /* 0.02 V over: the balance start under */
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.6005, CONF_CHEM_LFP, &s, why), 422); /* off the 1 mV step */
	CHECK_EQ_INT(ask(BMS_W_CELL_UVP_V, 2.89, CONF_CHEM_LFP, &s, why), 422);   /* under its release by 0.01 */
	CHECK_EQ_INT(ask(BMS_W_CELL_UVP_V, 2.49, CONF_CHEM_LFP, &s, why), 422);   /* under lfp's 2.50 */
	CHECK_EQ_INT(ask(BMS_W_CELL_UVP_RELEASE_V, 3.41, CONF_CHEM_LFP, &s, why), 422); /* over the balance start */
	CHECK_EQ_INT(ask(BMS_W_BALANCE_START_V, 3.65, CONF_CHEM_LFP, &s, why), 422);    /* not under the OVP */
	CHECK_EQ_INT(ask(BMS_W_BALANCE_START_V, 2.90, CONF_CHEM_LFP, &s, why), 0);      /* at the UVP release */
	CHECK_EQ_INT(ask(BMS_W_BALANCE_DELTA_V, 0.6, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_BALANCE_DELTA_V, 0.003, CONF_CHEM_LFP, &s, why), 0);
	CHECK_EQ_INT(ask(BMS_W_CAPACITY_AH, 0.5, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_CAPACITY_AH, 655.35, CONF_CHEM_LFP, &s, why), 0);
	CHECK_EQ_INT(ask(BMS_W_CAPACITY_AH, 655.36, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_CHARGE_OCP_A, 100.01, CONF_CHEM_LFP, &s, why), 0);
	CHECK_EQ_INT(ask(BMS_W_CHARGE_OCP_A, 100.001, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_BALANCER, 2, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_SOC, 50, CONF_CHEM_LFP, &s, why), 422);             /* jbd writes no SOC */
	/* a partner never read: 503 */
	struct bms_settings none = { 0 };
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.60, CONF_CHEM_LFP, &none, why), 503);
	CHECK(strstr(why, "not read") != NULL);
	CHECK_EQ_INT(ask(BMS_W_BALANCE_DELTA_V, 0.01, CONF_CHEM_LFP, &none, why), 0);
	/* effective range: the protocol's within the chemistry's */
	double lo, hi, step;
	gw_wset_range(bms_jbd_driver.writer, BMS_W_CELL_OVP_V, CONF_CHEM_NMC, &lo, &hi, &step);
	CHECK_NEAR(lo, 3.0, 1e-9);
	CHECK_NEAR(hi, 4.2, 1e-9);
	CHECK_NEAR(step, 0.001, 1e-12);
	gw_wset_range(bms_jbd_driver.writer, BMS_W_DISCHARGE_OCP_A, CONF_CHEM_LFP, &lo, &hi, &step);
	CHECK_NEAR(lo, 1.0, 1e-9);
	CHECK_NEAR(hi, 327.68, 1e-9);
}

static void vocabulary(void)
{
	CHECK_EQ_INT(bms_wkey_find("cell_ovp_v"), BMS_W_CELL_OVP_V);
	CHECK_EQ_INT(bms_wkey_find("soc"), BMS_W_SOC);
	CHECK_EQ_INT(bms_wkey_find("pack_ovp_v"), -1);
	CHECK_EQ_INT(bms_wkey_read(BMS_W_BALANCER), BMS_SET_BALANCER);
	CHECK_EQ_INT(bms_wkey_read(BMS_W_SOC), BMS_SET_COUNT);
	/* every key's read name is its own */
	for (int k = 1; k < BMS_W_COUNT; k++)
		CHECK_STR(bms_settings_name(bms_wkey_read((enum bms_wkey)k)), bms_wkey_name((enum bms_wkey)k));
	CHECK_EQ_INT(bms_writer_keys(bms_jk_driver.writer, BMS_LINK_WIRE), 0);
	CHECK_EQ_INT(bms_writer_keys(bms_jk_driver.writer, BMS_LINK_BLE), 0);
	CHECK_EQ_INT(bms_writer_keys(bms_jk_pb_driver.writer, BMS_LINK_BLE), 0);
	CHECK_EQ_INT(bms_writer_keys(bms_daly_driver.writer, BMS_LINK_WIRE), BMS_W_BIT(BMS_W_SOC));
}

int main(void)
{
	vocabulary();
	jbd_done();
	jbd_refused();
	jbd_lost_ack();
	jbd_balancer();
	daly_soc();
	jkpb_keys();
	jkpb_answers();
	jkpb_heater();
	jkble_keys();
	jkble_answers();
	jk_bounds();
	daly_modbus_d2();
	daly_modbus_d2_refused();
	daly_modbus_bounds();
	bounds();
	return check_report();
}
