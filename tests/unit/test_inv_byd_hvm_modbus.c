/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_byd_hvm_modbus.c - bmsgw as BYD's Battery-Box
 * Premium HVM on a Fronius's RS485 (gateway/inverter/dialect/emu_byd_hvm_modbus.c): the
 * Modbus RTU framer (mbrtu.c, FC 23 included) through the output's assembly
 * (inv485rx.c) on a stream of good, bad and foreign frames in every
 * chunking; every answer byte for byte: the state block 300-323, the
 * nameplate 200-212, the identity 100-167 (Battery-Emulator's static bytes
 * at 118-121, "BYD Batt"), zeros elsewhere; the writes Fronius makes
 * (400-418, 500-506) answered and read back as written (401 0 before any
 * write; FC 23 reads what it wrote; nothing kept by a refused write, one
 * before data or an answer that does not fit; the image and the limits
 * unchanged), the others refused; the exceptions 01, 02, 03; its address only; the roundings and clamps (SOC
 * never under 1 %, energies at 57960 Wh, powers at 30000 W, the CVL at
 * 450.0 V); the safety rules: nothing before data, the fail-safe battery
 * (standby, no power either way, no voltage after the contactors), and the
 * output's states on a fake clock.  The expected frames were computed
 * apart from the C code from gateway/inverter/PROTOCOLS.md §23 (a short
 * Python rendering with its own CRC-16/MODBUS). */
#include <stdio.h>
#include <string.h>

#include "../../gateway/inverter/codec.h"
#include "../../gateway/inverter/inv485rx.h"
#include "../../gateway/inverter/invout.h"
#include "check.h"

/* 300-323 of the battery below */
#define REQ "1503012C001886E1"
#define ANS "15033000030000008216763C002280258F1F4C0C850F660C850F66008C00D7000000000000000000000000" \
            "0000000000D7267AAB5C"
/* the same while stale: standby, no power limits, nothing after the contactors */
#define ANS_FS "15033000000000008216763C00228000000000000000000C850F66008C00D7000000000000000000000000" \
               "0000000000D7267A7929"
#define REQ_PLATE "150300C8000D06E5"
#define ANS_PLATE "15031A000000003C00A000A0000D800B40D000000AD000000A000000000FBD"
#define REQ_NAME "150300760004A6C7" /* Battery-Emulator's 118-121: "BYD Batt" */
#define ANS_NAME "150308425944204261747474C9"
#define REQ_IDENT "1503006400440732"
#define ANS_IDENT "15038853490001425944000000000000000000000000000000000000000000000000000000000042594420" \
                  "426174746572792D426F78205072656D69756D204856000000000000352E30000000000000000000000000" \
                  "00332E323600000000000000000000000050303330543032305A3139313131383936343233000000000000" \
                  "000000000000000100003479"
#define REQ_FAULTS "150303E80002476F" /* 1000-1001: a register no source lists reads 0 */
#define ANS_ZEROS "15030400000000AE32"
#define REQ_LAST "1503752E0002BD1A" /* 29998-29999 */
#define REQ_PAST "1503752F0002ECDA" /* 29999-30000 */
#define ANS_PAST "15830280F5"
#define REQ_ZERO "1503012C000086EB" /* 0 registers */
#define ANS_ZERO "1583034135"
#define REQ_FC04 "1504012C0002B2EA"
#define ANS_FC04 "158401C2C4"
#define WR_WATCHDOG "1506019100FF9A8F" /* FC 06: 401 = 00FF, Fronius's watchdog */
#define WR_STATE "1506012C00018B2B"    /* FC 06: 300 = 1 */
#define ANS_WR_STATE "15860283A5"
#define WR_CONTROL "15100190000912000200FF003C0000000063BF9B670000000175EC" /* 400-408 */
#define ANS_CONTROL "15100190000902CA"
#define WR_CVL "151000CD0001021388441B" /* 205 = 500.0 V */
#define ANS_WR_CVL "1590028DC5"
#define RW_LIMITS "1517013200020191000102FF00CCD7" /* FC 23: read 306-307, write 401 */
#define ANS_RW "151704258F1F4C9E04"
#define REQ_401 "150301910001D70F"
#define ANS_401_0 "15030200008847"      /* before any write */
#define ANS_401_00FF "15030200FFC807"
#define ANS_401_FF00 "150302FF00C9B7"
#define REQ_CONTROL "15030190001306C2" /* 400-418 */
#define ANS_CONTROL_RD "150326000200FF003C0000000063BF9B6700000001000000000000000000000000000000000000000093AE"
#define ANS_CONTROL_RW "1503260002FF00003C0000000063BF9B67000000010000000000000000000000000000000000000000D3BE"
#define RW_401 "1517019100010191000102123436C8" /* FC 23: read 401, write 401 = 1234 */
#define ANS_RW_401 "151702123480C0"
#define WR_DROOP "151001F400070E0001000200030004000500060007284E" /* 500-506 = 1..7 */
#define ANS_DROOP "151001F40007C2D1"
#define REQ_DROOP "150301F300097717" /* 499-507 */
#define ANS_DROOP_RD "1503120000000100020003000400050006000700003290"
#define REQ_SLAVE1 "0103012C001885F5"

static const struct inv_485_codec *K(void)
{
	return &inv_codec_byd_hvm_modbus.rs485;
}

/* what the inverter wrote, kept (the output's) */
static struct inv_485_kept kept;

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	int n = check_hex(h, out, (int)cap);
	CHECK(n >= 0);
	return n < 0 ? 0 : (size_t)n;
}

/* The requests an assembly yielded, as hex, joined by spaces. */
struct got {
	char text[1024];
};

static void got_request(void *arg, const uint8_t *req, size_t n)
{
	struct got *g = arg;
	size_t at = strlen(g->text);
	for (size_t i = 0; i < n && at + 4 < sizeof(g->text); i++, at += 2)
		snprintf(g->text + at, 3, "%02X", req[i]);
	if (at + 2 < sizeof(g->text))
		strcpy(g->text + at, " ");
}

#define CNT(rx, v) ((rx).count[INV_SCAN_##v])

/* Noise, a good read, one with a bad CRC, another slave's answer, slave
 * 1's read, an FC 16 write, an FC 23 and its answer: in every cut into two
 * reads and byte by byte, the same requests and counters. */
static void test_framer(void)
{
	static const char *const parts[] = { "FF00", REQ, "1503012C001886E2", ANS_NAME, REQ_SLAVE1, WR_CONTROL,
					     RW_LIMITS, ANS_RW };
	const char *want = REQ " " REQ_SLAVE1 " " WR_CONTROL " " RW_LIMITS " ";
	uint8_t s[512];
	size_t len = 0;
	int bad = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		len += hex(parts[i], s + len, sizeof(s) - len);
	for (size_t cut = 0; cut <= len; cut++) {
		struct inv_485_rx rx;
		struct got g = { "" };
		inv_485_rx_init(&rx);
		inv_485_rx_feed(&rx, K()->scan, s, cut, got_request, &g);
		inv_485_rx_feed(&rx, K()->scan, s + cut, len - cut, got_request, &g);
		if (strcmp(g.text, want) || CNT(rx, REQUEST) != 4 || CNT(rx, OTHER) != 2 || CNT(rx, BAD_CHECKSUM) < 1 ||
		    rx.len)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	struct inv_485_rx rx;
	struct got g = { "" };
	inv_485_rx_init(&rx);
	for (size_t i = 0; i < len; i++)
		inv_485_rx_feed(&rx, K()->scan, s + i, 1, got_request, &g);
	CHECK_STR(g.text, want);

	/* a damaged frame whose bytes read as the start of a long one (03 01
	 * 2C: 49 bytes): the next request comes out as soon as it is whole */
	uint8_t d[32];
	size_t nd = hex("1503012C001886E0" REQ, d, sizeof(d));
	struct inv_485_rx rd;
	struct got gd = { "" };
	inv_485_rx_init(&rd);
	for (size_t i = 0; i < nd; i++)
		inv_485_rx_feed(&rd, K()->scan, d + i, 1, got_request, &gd);
	CHECK_STR(gd.text, REQ " ");
	CHECK_EQ_INT((int)rd.len, 0);
	CHECK(CNT(rd, BAD_FORMAT) >= 1);

	/* FC 23 alone: more until its write count (byte 10) has come, then
	 * the whole request; a short answer goes before */
	uint8_t r[32];
	size_t n = 9, nr = hex(RW_LIMITS, r, sizeof(r));
	for (size_t k = 0; k < nr; k++)
		CHECK_EQ_INT(K()->scan(r, k, &n), INV_SCAN_MORE);
	CHECK_EQ_INT(K()->scan(r, nr, &n), INV_SCAN_REQUEST);
	CHECK_EQ_INT(n, nr);
	nr = hex(ANS_RW, r, sizeof(r));
	CHECK_EQ_INT(K()->scan(r, nr, &n), INV_SCAN_OTHER);
	CHECK_EQ_INT(n, nr);
}

/* 96 LFP cells at 320.5 V, -12.3 A (discharging), SOC 57.5 %, SOH 98.5 %,
 * CVL 345.6 V, DVL 288.0 V, CCL 25 A, DCL 30 A, 14.0-21.5 degC, 50 Ah
 * (28.75 left), the machine's tag 3d1219c7. */
static void battery(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT | INV_HAS_TEMP |
		     INV_HAS_TEMP_MINMAX | INV_HAS_FULL | INV_HAS_REMAIN;
	b->cvl_v = 345.6f;
	b->dvl_v = 288.0f;
	b->ccl_a = 25;
	b->dcl_a = 30;
	b->charge_allowed = b->discharge_allowed = true;
	b->soc = 57.5f;
	b->soh = 98.5f;
	b->voltage = 320.5f;
	b->current = -12.3f;
	b->temp_c = 17.7f;
	b->temp_min_c = 14.0f;
	b->temp_max_c = 21.5f;
	b->full_ah = 50;
	b->remain_ah = 28.75f;
	b->total_cells = 96;
	strcpy(b->machine_tag, "3d1219c7");
}

static struct conf_inverter cfg(int address)
{
	struct conf_inverter c;
	memset(&c, 0, sizeof(c));
	c.protocol = CONF_INV_BYD_HVM_MODBUS;
	c.address = address;
	return c;
}

/* The answer to the request in hex is want (NULL: none). */
static void answers(const struct conf_inverter *c, const struct inv_battery *b, const char *req, const char *want,
		    struct inv_encoded *e)
{
	uint8_t q[64], out[INV_485_ANSWER_MAX], w[300];
	size_t nq = hex(req, q, sizeof(q));
	int n = K()->answer(c, &kept, b, q, nq, out, sizeof(out), e);
	if (!want) {
		CHECK_EQ_INT(n, 0);
		return;
	}
	size_t nw = hex(want, w, sizeof(w));
	CHECK_EQ_INT(n, (int)nw);
	CHECK(n == (int)nw && memcmp(out, w, nw) == 0);
}

/* The writes Fronius makes: answered (FC 06 echoes), read back as
 * written; the image and its limits never change. */
static void test_writes(const struct conf_inverter *c, const struct inv_battery *b)
{
	struct inv_encoded e;
	uint8_t q[64], out[64];

	memset(&kept, 0, sizeof(kept));
	answers(c, b, REQ_401, ANS_401_0, &e); /* 0 before any write */
	answers(c, b, WR_WATCHDOG, WR_WATCHDOG, &e);
	answers(c, b, REQ_401, ANS_401_00FF, &e);
	answers(c, b, WR_CONTROL, ANS_CONTROL, &e);
	answers(c, b, REQ_CONTROL, ANS_CONTROL_RD, &e);
	answers(c, b, RW_LIMITS, ANS_RW, &e); /* 401 = FF00, the limits read */
	CHECK(e.limits);
	answers(c, b, REQ_CONTROL, ANS_CONTROL_RW, &e);
	answers(c, b, WR_DROOP, ANS_DROOP, &e);
	answers(c, b, REQ_DROOP, ANS_DROOP_RD, &e);
	/* FC 23 writes, then reads what it wrote; not when its answer does not fit */
	hex(RW_401, q, sizeof(q));
	CHECK_EQ_INT(K()->answer(c, &kept, b, q, 15, out, 6, &e), -1);
	answers(c, b, REQ_401, ANS_401_FF00, &e);
	answers(c, b, RW_401, ANS_RW_401, &e);
	answers(c, b, REQ_401, "15030212348530", &e);
	/* the image and its limits as before the writes */
	answers(c, b, REQ, ANS, &e);
	answers(c, b, REQ_PLATE, ANS_PLATE, &e);
	/* writes elsewhere: refused, nothing kept (300 and 205 read as before) */
	struct inv_485_kept had = kept;
	answers(c, b, WR_STATE, ANS_WR_STATE, &e);
	answers(c, b, WR_CVL, ANS_WR_CVL, &e);
	answers(c, b, "151001A200020400010002E46F" /* 418-419 */, ANS_WR_CVL, &e);
	CHECK(memcmp(&had, &kept, sizeof(kept)) == 0);
	answers(c, b, REQ, ANS, &e);
	answers(c, b, REQ_PLATE, ANS_PLATE, &e);
}

static void test_answers(void)
{
	struct conf_inverter c = cfg(21);
	struct inv_battery b;
	struct inv_encoded e;
	uint8_t q[64], out[300];

	battery(&b);
	answers(&c, &b, REQ, ANS, &e);
	/* 306 = 9615 W, 307 = 8012 W at the 320.5 V sent */
	CHECK(e.limits);
	CHECK_NEAR(e.dcl_a, 9615 / 320.5, 1e-4);
	CHECK_NEAR(e.ccl_a, 8012 / 320.5, 1e-4);
	answers(&c, &b, REQ_PLATE, ANS_PLATE, &e);
	CHECK(!e.limits);
	answers(&c, &b, REQ_NAME, ANS_NAME, &e);
	answers(&c, &b, REQ_IDENT, ANS_IDENT, &e);
	answers(&c, &b, REQ_FAULTS, ANS_ZEROS, &e);
	answers(&c, &b, REQ_LAST, ANS_ZEROS, &e);
	answers(&c, &b, REQ_PAST, ANS_PAST, &e);
	answers(&c, &b, REQ_ZERO, ANS_ZERO, &e);
	answers(&c, &b, REQ_FC04, ANS_FC04, &e);
	test_writes(&c, &b);
	/* its address only */
	hex(REQ_SLAVE1, q, sizeof(q));
	CHECK(!K()->ours(&c, q, 8));
	answers(&c, &b, REQ_SLAVE1, NULL, &e);
	struct conf_inverter c1 = cfg(1);
	CHECK(K()->ours(&c1, q, 8));
	CHECK_EQ_INT(K()->answer(&c1, &kept, &b, q, 8, out, sizeof(out), &e), 53);
	/* too small a room */
	hex(REQ, q, sizeof(q));
	CHECK_EQ_INT(K()->answer(&c, &kept, &b, q, 8, out, 52, &e), -1);
	CHECK(!e.limits);
}

/* The registers 300-323 of b, as numbers. */
static void state_regs(const struct inv_battery *b, unsigned *r)
{
	struct conf_inverter c = cfg(21);
	struct inv_encoded e;
	uint8_t q[8], out[64];
	hex(REQ, q, sizeof(q));
	CHECK_EQ_INT(K()->answer(&c, &kept, b, q, 8, out, sizeof(out), &e), 53);
	for (int i = 0; i < 24; i++)
		r[i] = (unsigned)out[3 + 2 * i] << 8 | out[4 + 2 * i];
}

/* The roundings and clamps of §23. */
static void test_values(void)
{
	struct inv_battery b;
	unsigned r[24];

	battery(&b);
	b.soc = 0.4f;          /* never under 1 % */
	b.current = 0.04f;     /* idle below 0.05 A */
	b.full_ah = 500;       /* 153600 Wh: at most 57960 */
	b.remain_ah = 250;
	b.ccl_a = 200;         /* 64100 W: at most 30000 */
	b.temp_min_c = -12.34f;
	b.present &= ~(uint32_t)INV_HAS_SOH;
	state_regs(&b, r);
	CHECK_EQ_INT(r[3], 100);
	CHECK_EQ_INT(r[2], 128);
	CHECK_EQ_INT(r[4], 57960);
	CHECK_EQ_INT(r[5], 57960);
	CHECK_EQ_INT(r[7], 30000);
	CHECK_EQ_INT((int16_t)r[12], -123);
	CHECK_EQ_INT(r[23], 10000);
	b.current = 2.0f;      /* charging: + is into the battery, the power sent - */
	b.soc = 99.999f;       /* rounded down */
	state_regs(&b, r);
	CHECK_EQ_INT(r[2], 129);
	CHECK_EQ_INT((int16_t)r[9], -641);
	CHECK_EQ_INT(r[3], 9999);
	b.current = -200;      /* 64100 W: held at the s16's end */
	b.charge_allowed = false;
	state_regs(&b, r);
	CHECK_EQ_INT(r[2], 130);
	CHECK_EQ_INT(r[9], 32767);
	CHECK_EQ_INT(r[7], 0);
	CHECK_EQ_INT(r[6], 9615);
	b.present &= ~(uint32_t)INV_HAS_VOLTAGE; /* no voltage: no power can be said */
	state_regs(&b, r);
	CHECK_EQ_INT(r[6], 0);
	CHECK_EQ_INT(r[10], 0);
	/* the CVL at most 450.0 V (205) */
	struct conf_inverter c = cfg(21);
	struct inv_encoded e;
	uint8_t q[8], out[64];
	battery(&b);
	b.cvl_v = 460.0f;
	hex(REQ_PLATE, q, sizeof(q));
	CHECK_EQ_INT(K()->answer(&c, &kept, &b, q, 8, out, sizeof(out), &e), 31);
	CHECK_EQ_INT(out[3 + 10] << 8 | out[4 + 10], 4500);
	/* without a tag the serial number ends in 00001, as Battery-Emulator's */
	b.machine_tag[0] = '\0';
	hex("150300960008A734", q, sizeof(q)); /* 150-157 */
	CHECK_EQ_INT(K()->answer(&c, &kept, &b, q, 8, out, sizeof(out), &e), 21);
	CHECK(memcmp(out + 3, "P030T020Z19111800001", 16) == 0);
	hex("1503009E0002A6F1", q, sizeof(q)); /* 158-159: the last four characters */
	CHECK_EQ_INT(K()->answer(&c, &kept, &b, q, 8, out, sizeof(out), &e), 9);
	CHECK(memcmp(out + 3, "0001", 4) == 0);
}

/* Safety: no answer without data; the fail-safe battery. */
static void test_safety_codec(void)
{
	struct conf_inverter c = cfg(21);
	struct inv_battery b;
	struct inv_encoded e;

	memset(&b, 0, sizeof(b)); /* nothing yet */
	memset(&kept, 0, sizeof(kept));
	answers(&c, &b, REQ, NULL, &e);
	answers(&c, &b, WR_WATCHDOG, NULL, &e);
	CHECK(!e.limits);
	static const struct inv_485_kept none;
	CHECK(memcmp(&kept, &none, sizeof(kept)) == 0); /* a write not answered is not kept */
	battery(&b);
	b.present &= ~INV_HAS_SOC;
	answers(&c, &b, REQ, NULL, &e);
	battery(&b);
	b.present &= ~INV_HAS_LIMITS;
	answers(&c, &b, REQ, NULL, &e);
	/* stale: the last values, no current allowed, the fail-safe mark */
	battery(&b);
	b.ccl_a = b.dcl_a = 0;
	b.charge_allowed = b.discharge_allowed = false;
	b.failsafe = true;
	answers(&c, &b, REQ, ANS_FS, &e);
	CHECK(e.limits);
	CHECK_NEAR(e.ccl_a, 0, 1e-6);
	CHECK_NEAR(e.dcl_a, 0, 1e-6);
}

/* The output on a fake clock: what it answers at each poll, as inv485.c
 * decides (answers only in a state that speaks). */
static int poll_at(struct inv_out *o, double now, bool fresh, const struct inv_battery *b, const char *want)
{
	uint8_t q[8], out[INV_485_ANSWER_MAX], w[64];
	struct inv_encoded e;
	hex(REQ, q, sizeof(q));
	inv_update_state(o, true, fresh, now);
	int n = inv_state_speaks(o->state) ? K()->answer(&o->cfg, &o->rs485.kept, b, q, sizeof(q), out, sizeof(out), &e) : 0;
	if (want) {
		size_t nw = hex(want, w, sizeof(w));
		CHECK(n == (int)nw && memcmp(out, w, nw) == 0);
	}
	return n;
}

static void test_safety_states(void)
{
	static struct inv_out o; /* zero: never fresh */
	struct inv_battery b, fs;

	o.cfg = cfg(21);
	o.cfg.failsafe_silence = 30;
	battery(&b);
	fs = b;
	fs.ccl_a = fs.dcl_a = 0;
	fs.charge_allowed = fs.discharge_allowed = false;
	fs.failsafe = true;
	CHECK_EQ_INT(poll_at(&o, 0.0, false, &b, NULL), 0);
	CHECK_EQ_INT(o.state, INV_WAITING);
	CHECK_EQ_INT(poll_at(&o, 1.0, true, &b, ANS), 53);
	CHECK_EQ_INT(o.state, INV_SENDING);
	CHECK_EQ_INT(poll_at(&o, 2.0, false, &fs, ANS_FS), 53);
	CHECK_EQ_INT(o.state, INV_FAILSAFE);
	CHECK_EQ_INT(poll_at(&o, 31.9, false, &fs, ANS_FS), 53);
	CHECK_EQ_INT(poll_at(&o, 32.0, false, &fs, NULL), 0);
	CHECK_EQ_INT(o.state, INV_SILENT);
	CHECK_EQ_INT(poll_at(&o, 101.0, true, &b, ANS), 53);
	CHECK_EQ_INT(o.state, INV_SENDING);
}

static void test_row(void)
{
	double lo = 0, hi = 0;
	CHECK(inv_codec_of(CONF_INV_BYD_HVM_MODBUS) == &inv_codec_byd_hvm_modbus);
	CHECK(inv_dialect_kind(CONF_INV_BYD_HVM_MODBUS) == CONF_INV_RS485);
	CHECK_STR(inv_dialect_name(CONF_INV_BYD_HVM_MODBUS), "byd-hvm-modbus");
	CHECK(inv_dialect_volt_range(CONF_INV_BYD_HVM_MODBUS, &lo, &hi) && lo == 80 && hi == 450);
}

int main(void)
{
	test_framer();
	test_answers();
	test_values();
	test_safety_codec();
	test_safety_states();
	test_row();
	return check_report();
}
