/* SPDX-License-Identifier: MIT */
/* tests/unit/test_request.c - one Modbus request screened and answered
 * (gateway/modbus/request.c, identity.c), as the TCP and RTU servers both
 * take it, on a fake clock: the exact answer PDUs of FC03 / FC04 of the
 * map and of the SunSpec block, FC 0x11 and FC 0x2B; the exception of
 * every refusal (unit, function, length, quantity, a range across the map
 * and the block or past its end, stale data, writes into the block, the
 * transport's own write rule). */
#include <stdlib.h>
#include <string.h>

#include "../../gateway/daemon/daemon.h"
#include "../../gateway/modbus/request.h"
#include "../../gateway/modbus/modbus_conf.h"
#include "check.h"
#include "sections.h"

static struct gw gw;
static struct gw_answerer *ans;

#define NOW 2000.0
#define MAPB 267u      /* [gateway] base: the map (161) ends at 427, right before SunSpec */
#define SSB 428u       /* [sunspec] base: right after the map's last register (427) */
#define AT802 (SSB + 70u)

static const struct gw_writer allowed = { true, NULL };
static const struct gw_writer refused = { false, "the transport says no" };

static void setup(void)
{
	char err[256];
	struct conf *c = malloc(sizeof(*c));
	const char ini[] = "[gateway]\nbase = 267\nstate_file = none\nstale_after = 10\n"
			   "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\ncontrol = true\n"
			   "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\n"
			   "[bank]\n[limits]\n[sunspec]\nbase = 428\n";
	CHECK(c && conf_load_string(ini, "t.ini", c, err, sizeof(err)) == 0);
	CHECK_EQ_INT(gw_init(&gw, NULL, c), 0);
	gw.start = 1000.0;
	ans = gw_answerer_new(&gw);
	CHECK(ans != NULL);
	for (int i = 0; i < 2; i++) {
		struct gw_pack *p = gw.packs[i];
		memset(&p->snap, 0, sizeof(p->snap));
		p->snap.present = BMS_HAS_VOLTAGE | BMS_HAS_SOC | BMS_HAS_CURRENT | BMS_HAS_POWER;
		p->snap.voltage = 52.34f;
		p->snap.soc = 61.3f + (float)i;
		p->snap.current = 5.0f;
		p->snap.power = 261.7f;
		reg_encode_data(&p->snap, gw.conf->gw.float_order, p->data_regs);
		p->have_data = true;
		p->last_good = NOW - 1;
		p->good_polls = 1;
		p->lim = (struct gw_limits){ .enabled = true, .volt_valid = true, .cvl_v = 55.2, .ccl_a = 37.5,
					     .dcl_a = 60, .dvl_v = 46.4, .mode = GW_LIM_BULK };
	}
}

/* Screen and answer pdu (hex) to unit at now: the answer's length (or minus
 * the exception) and its bytes in out. */
static int ask(int unit, const char *hex, const struct gw_writer *wr, double now, struct gw_screen *s, uint8_t *out)
{
	uint8_t pdu[GW_PDU_MAX];
	int n = check_hex(hex, pdu, sizeof(pdu));
	gw_request_screen(&gw, unit, pdu, (size_t)n, wr, now, s);
	if (s->exception)
		return -s->exception;
	if (s->write)
		return 0;
	return gw_request_answer(ans, s, pdu, (size_t)n, now, out);
}

static int exc(int unit, const char *hex)
{
	struct gw_screen s;
	uint8_t out[GW_PDU_MAX];
	int n = ask(unit, hex, &allowed, NOW, &s, out);
	return n < 0 ? -n : 0;
}

static bool bytes_are(const uint8_t *got, int n, const char *hex)
{
	uint8_t want[GW_PDU_MAX];
	int wn = check_hex(hex, want, sizeof(want));
	bool same = n == wn && memcmp(got, want, (size_t)n) == 0;
	if (!same) {
		fprintf(stderr, "  got ");
		for (int i = 0; i < n; i++)
			fprintf(stderr, "%02X ", got[i]);
		fprintf(stderr, "\n  want %s\n", hex);
	}
	return same;
}

/* FC04 answers FC03's registers, at every offset of the map. */
static void test_fc04(void)
{
	struct gw_screen s;
	uint8_t a[GW_PDU_MAX], b[GW_PDU_MAX];
	int na = ask(1, "03 01 0B 00 7D", &allowed, NOW, &s, a);
	CHECK_EQ_INT(s.kind, GW_REQ_MAP);
	int nb = ask(1, "04 01 0B 00 7D", &allowed, NOW, &s, b);
	CHECK_EQ_INT(na, 2 + 250);
	CHECK_EQ_INT(nb, na);
	CHECK_EQ_INT(a[0], 3);
	CHECK_EQ_INT(b[0], 4);
	CHECK_EQ_INT(b[1], 250);
	CHECK(memcmp(a + 1, b + 1, 251) == 0);
	CHECK(bytes_are(b, 4, "04 FA 00 3D")); /* SOC 61 % */
	CHECK_EQ_INT(exc(1, "04 01 0B 00 7E"), 3);
	CHECK_EQ_INT(exc(1, "04 01 0B 00 00"), 3);
	CHECK_EQ_INT(exc(1, "04 01 0A 00 02"), 2);
	CHECK_EQ_INT(exc(1, "04 01 0B 00"), 3);
	CHECK_EQ_INT(exc(9, "04 01 0B 00 01"), 0x0A);
	CHECK_EQ_INT(exc(1, "01 01 0B 00 01"), 1);
}

/* The SunSpec block: "SunS", model 1's header, 802's SoC and limits. */
static void test_sunspec(void)
{
	struct gw_screen s;
	uint8_t out[GW_PDU_MAX];
	int n = ask(1, "03 01 AC 00 04", &allowed, NOW, &s, out);
	CHECK_EQ_INT(s.kind, GW_REQ_SUNSPEC);
	CHECK(bytes_are(out, n, "03 08 53 75 6E 53 00 01 00 42"));
	n = ask(1, "04 01 AC 00 04", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "04 08 53 75 6E 53 00 01 00 42"));
	/* 802 at 485: ID 802 (0x0322), L 62; SoC (offset 11) 61.3 % in 0.1 % */
	n = ask(1, "03 01 F2 00 02", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "03 04 03 22 00 3E"));
	n = ask(2, "03 01 FD 00 01", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "03 02 02 6F")); /* 62.3 % */
	/* VMax 55.20 V, VMin 46.40 V (offsets 35, 36), AChaMax 37.5 A, ADisChaMax 60 A (45, 46) */
	n = ask(1, "03 02 15 00 02", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "03 04 15 90 12 20"));
	n = ask(1, "03 02 1F 00 02", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "03 04 01 77 02 58"));
	/* A (offset 44) and W (47): + = discharging, so a charging pack reads negative */
	n = ask(1, "03 02 1E 00 01", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "03 02 FF CE")); /* -5.0 A in 0.1 A */
	n = ask(1, "03 02 21 00 01", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "03 02 FE FA")); /* -262 W */
	/* the end model of a pack at 428 + 134 = 562 */
	n = ask(1, "03 02 32 00 02", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "03 04 FF FF 00 00"));
	/* the bank's block is longer: 803 at 562, NStr 2 */
	n = ask(100, "03 02 32 00 03", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "03 06 03 23 00 5A 00 02"));
}

/* Ranges: across the map and the block, past the end; without [sunspec]. */
static void test_ranges(void)
{
	CHECK_EQ_INT(exc(1, "03 01 AB 00 02"), 2);   /* 427-428: the map's last, "SunS" */
	CHECK_EQ_INT(exc(1, "04 01 A7 00 0A"), 2);
	CHECK_EQ_INT(exc(1, "03 02 33 00 02"), 2);   /* 563-564: past a pack's end model */
	CHECK_EQ_INT(exc(100, "03 02 33 00 02"), 0); /* inside the bank's 803 */
	CHECK_EQ_INT(exc(100, "03 02 8F 00 01"), 0); /* 428 + 227: the bank's last */
	CHECK_EQ_INT(exc(100, "03 02 90 00 01"), 2);
	CHECK_EQ_INT(exc(1, "03 01 AC 00 7E"), 3);
	((struct conf_sunspec *)gw_sunspec_cfg(gw.conf))->enabled = false;
	CHECK_EQ_INT(exc(1, "03 01 AC 00 02"), 2);
	((struct conf_sunspec *)gw_sunspec_cfg(gw.conf))->enabled = true;
}

/* Stale: the map's data 0x0B (stale_policy = exception); the SunSpec block
 * answered with either policy (FC03 and FC04): its data not implemented,
 * State 1, Evt1 COMMUNICATION_ERROR, the limits at zero current, SetOp 1,
 * SetInvState 3. */
static void test_stale(void)
{
	struct gw_screen s;
	uint8_t out[GW_PDU_MAX];
	double later = NOW + 20; /* stale_after 10 */
	CHECK_EQ_INT(-ask(1, "03 01 0B 00 01", &allowed, later, &s, out), 0x0B); /* the map */
	for (int flag = 0; flag <= 1; flag++) {
		gw.conf->gw.stale_policy = flag ? CONF_STALE_FLAG : CONF_STALE_EXCEPTION;
		int n = ask(1, "03 01 FD 00 01", &allowed, later, &s, out);
		CHECK(bytes_are(out, n, "03 02 FF FF")); /* SoC not implemented */
		n = ask(1, "04 01 FD 00 01", &allowed, later, &s, out);
		CHECK(bytes_are(out, n, "04 02 FF FF"));
		CHECK_EQ_INT(ask(1, "03 01 AC 00 46", &allowed, later, &s, out), 2 + 140); /* SunS + model 1 */
		CHECK_EQ_INT(ask(1, "03 02 26 00 0C", &allowed, later, &s, out), 2 + 24);  /* 802's scale factors */
		n = ask(1, "03 02 08 00 01", &allowed, later, &s, out);
		CHECK(bytes_are(out, n, "03 02 00 01")); /* State: DISCONNECTED */
		n = ask(1, "03 02 1F 00 02", &allowed, later, &s, out);
		CHECK(bytes_are(out, n, "03 04 00 00 00 00")); /* AChaMax, ADisChaMax */
		n = ask(1, "03 02 15 00 02", &allowed, later, &s, out);
		CHECK(bytes_are(out, n, "03 04 FF FF FF FF")); /* VMax, VMin: no voltage of the past */
		n = ask(1, "03 02 0C 00 02", &allowed, later, &s, out);
		CHECK(bytes_are(out, n, "03 04 00 00 00 01")); /* Evt1: COMMUNICATION_ERROR */
		n = ask(1, "03 02 24 00 02", &allowed, later, &s, out);
		CHECK(bytes_are(out, n, "03 04 00 01 00 03")); /* SetOp CONNECT, SetInvState STARTED */
		/* the whole block in one read, as a SunSpec walker might */
		CHECK_EQ_INT(ask(1, "03 01 AC 00 7D", &allowed, later, &s, out), 2 + 250);
	}
	gw.conf->gw.stale_policy = CONF_STALE_EXCEPTION;
}

/* Writes: the SunSpec block is read-only (0x01, not a MOSFET command); a
 * register of the map that is not writable is 0x02; for the writable ones
 * the transport's rule comes first, then the pack's. */
static void test_writes(void)
{
	struct gw_screen s;
	uint8_t out[GW_PDU_MAX];
	CHECK_EQ_INT(-ask(1, "06 02 09 00 32", &allowed, NOW, &s, out), 1); /* 802 SoCRsvMin */
	CHECK(s.why == NULL);
	CHECK_EQ_INT(-ask(1, "10 01 AC 00 02 04 00 00 00 00", &allowed, NOW, &s, out), 1);
	CHECK(s.why == NULL);
	CHECK_EQ_INT(-ask(1, "06 01 1C 00 00", &refused, NOW, &s, out), 1); /* offset 17 */
	CHECK_STR(s.why, "the transport says no");
	CHECK_EQ_INT(ask(1, "06 01 1C 00 00", &allowed, NOW, &s, out), 0);
	CHECK(s.write && s.kind == GW_REQ_WRITE && s.set[BMS_FET_DISCHARGE] && !s.on[BMS_FET_DISCHARGE]);
	CHECK_EQ_INT(-ask(2, "06 01 1C 00 00", &allowed, NOW, &s, out), 1); /* b has no control */
	CHECK_EQ_INT(-ask(100, "06 01 1C 00 00", &allowed, NOW, &s, out), 1);
	CHECK_EQ_INT(-ask(1, "06 01 1C 00 00", &allowed, NOW + 20, &s, out), 0x0B);
	CHECK_EQ_INT(-ask(1, "06 01 1E 00 00", &allowed, NOW, &s, out), 2);
	/* a register that is not writable is 0x02 whoever asks, its address judged before the writer's
	 * and the pack's rules (design section 5; 0x01 before issue 97) */
	CHECK_EQ_INT(-ask(1, "06 01 0B 00 00", &refused, NOW, &s, out), 2); /* offset 0, a writer refused */
	CHECK(s.why && strstr(s.why, "writable"));
	CHECK_EQ_INT(-ask(2, "06 01 0B 00 00", &allowed, NOW, &s, out), 2); /* b has no control */
	CHECK_EQ_INT(-ask(100, "06 01 0B 00 00", &allowed, NOW, &s, out), 2); /* the bank */
	CHECK_EQ_INT(-ask(1, "06 00 00 00 00", &refused, NOW, &s, out), 2); /* below the map */
	CHECK_EQ_INT(-ask(1, "10 01 1B 00 02 04 00 00 00 00", &allowed, NOW, &s, out), 2); /* FC16 from offset 16 */
	CHECK_EQ_INT(-ask(1, "10 01 1C 00 03 06 00 00 00 00 00 00", &allowed, NOW, &s, out), 3); /* 17-19 */
}

/* FC 0x11 and FC 0x2B: exact answers, the run indicator, the refusals. */
static void test_ident(void)
{
	struct gw_screen s;
	uint8_t out[GW_PDU_MAX];
	int n = ask(1, "11", &allowed, NOW, &s, out);
	CHECK_EQ_INT(s.kind, GW_REQ_IDENT);
	/* 11, byte count 2 + 18, server id 1, run FF, "bmsgw 0.1.0 a daly" */
	char want[128] = "11 14 01 FF";
	const char *text = "bmsgw " BMSGW_VERSION " a daly";
	for (const char *p = text; *p; p++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), " %02X", (unsigned char)*p);
	if (strlen(text) == 18)
		CHECK(bytes_are(out, n, want));
	n = ask(1, "11", &allowed, NOW + 20, &s, out);
	CHECK(n > 4 && out[3] == 0x00);
	n = ask(0, "11", &allowed, NOW, &s, out);
	CHECK(n > 4 && out[2] == 100); /* unit 0: the bank, its configured id */
	n = ask(2, "2B 0E 04 06", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "2B 0E 04 82 00 00 01 06 01 62"));
	n = ask(100, "2B 0E 04 01", &allowed, NOW, &s, out);
	CHECK(bytes_are(out, n, "2B 0E 04 82 00 00 01 01 04 62 61 6E 6B"));
	n = ask(1, "2B 0E 01 00", &allowed, NOW, &s, out);
	CHECK(n > 7 && out[6] == 3); /* basic: objects 0-2 */
	n = ask(1, "2B 0E 02 00", &allowed, NOW, &s, out);
	CHECK(n > 7 && out[6] == 6); /* regular: 0-2, 4-6 */
	CHECK_EQ_INT(exc(1, "2B 0E 04 03"), 2);
	CHECK_EQ_INT(exc(1, "2B 0E 04 80"), 2);
	CHECK_EQ_INT(exc(1, "2B 0E 05 00"), 3);
	CHECK_EQ_INT(exc(1, "2B 0D 01 00"), 1);
	CHECK_EQ_INT(exc(1, "11 00"), 3);
	CHECK_EQ_INT(exc(7, "11"), 0x0A);
}

/* A settings write (offsets 150-160 at 417-427): screened, taken by
 * gw_request_control(), answered; the answer's length or minus the exception. */
static int set_req(int unit, const char *hex, const struct gw_writer *wr, uint8_t *out)
{
	uint8_t pdu[GW_PDU_MAX];
	struct gw_screen s;
	int n = check_hex(hex, pdu, sizeof(pdu));
	gw_request_screen(&gw, unit, pdu, (size_t)n, wr, NOW, &s);
	CHECK(!gw_request_control(&gw, &s, "test", NULL, NULL, NULL));
	if (s.exception)
		return -s.exception;
	return gw_request_answer(ans, &s, pdu, (size_t)n, NOW, out);
}

static void test_settings(void)
{
	uint8_t out[GW_PDU_MAX];
	struct gw_unit u1 = { .pack = gw.packs[0] }, bank = { .bank = true };
	const struct gw_settings *set = gw_unit_settings(&gw, &u1);
	CHECK_EQ_INT(set->v[GW_SET_MAX_SOC], 100);
	/* max_soc 80 by FC06: echoed, in force, origin modbus */
	int n = set_req(1, "06 01 A1 00 50", &allowed, out);
	CHECK(bytes_are(out, n, "06 01 A1 00 50"));
	CHECK_EQ_INT(set->v[GW_SET_MAX_SOC], 80);
	CHECK_EQ_INT(set->origin[GW_SET_MAX_SOC], GW_ORIGIN_MODBUS);
	/* a writer the transport refuses: 0x01, nothing taken */
	CHECK_EQ_INT(-set_req(1, "06 01 A1 00 46", &refused, out), 0x01);
	CHECK_EQ_INT(set->v[GW_SET_MAX_SOC], 80);
	/* out of range, loosening: 0x03 */
	CHECK_EQ_INT(-set_req(1, "06 01 A1 00 00", &allowed, out), 0x03);
	CHECK_EQ_INT(-set_req(1, "06 01 A3 00 50", &allowed, out), 0x03); /* min_soc 80 = max_soc */
	CHECK_EQ_INT(-set_req(1, "06 01 A8 FF FE", &allowed, out), 0x03); /* a cap above the maximum */
	n = set_req(1, "10 01 A8 00 02 04 00 64 00 65", &allowed, out); /* caps 10.0 and 10.1 A */
	CHECK(bytes_are(out, n, "10 01 A8 00 02"));
	/* half of force_charge_until, or past offset 160: 0x02 */
	CHECK_EQ_INT(-set_req(1, "06 01 A6 00 01", &allowed, out), 0x02);
	CHECK_EQ_INT(-set_req(1, "06 01 A7 00 01", &allowed, out), 0x02);
	CHECK_EQ_INT(-set_req(1, "10 01 A5 00 02 04 00 01 F0 00", &allowed, out), 0x02);
	CHECK_EQ_INT(-set_req(1, "10 01 AB 00 02 04 00 01 00 01", &allowed, out), 0x01); /* into SunSpec */
	((struct conf_sunspec *)gw_sunspec_cfg(gw.conf))->enabled = false;
	CHECK_EQ_INT(-set_req(1, "10 01 AB 00 02 04 00 01 00 01", &allowed, out), 0x02);
	((struct conf_sunspec *)gw_sunspec_cfg(gw.conf))->enabled = true;
	/* FC16 of force_charge and its end (2097): echoed with the count */
	n = set_req(1, "10 01 A5 00 03 06 00 01 F0 00 00 00", &allowed, out);
	CHECK(bytes_are(out, n, "10 01 A5 00 03"));
	CHECK_EQ_INT(set->v[GW_SET_FORCE], 1);
	CHECK_EQ_INT(set->v[GW_SET_FORCE_UNTIL], 0xF0000000u);
	/* read back: the values in force */
	n = ask(1, "03 01 A1 00 0A", &allowed, NOW, &(struct gw_screen){ 0 }, out);
	CHECK(bytes_are(out, n, "03 14 00 50 00 05 00 00 00 05 00 01 F0 00 00 00 00 64 00 65 00 3C"));
	/* the bank is writable here (and only here) */
	n = set_req(100, "06 01 A9 00 64", &allowed, out);
	CHECK(bytes_are(out, n, "06 01 A9 00 64"));
	CHECK_EQ_INT(gw_unit_settings(&gw, &bank)->v[GW_SET_DCL_CAP], 100);
	CHECK_EQ_INT(gw_unit_settings(&gw, &u1)->v[GW_SET_DCL_CAP], 0x65);
	CHECK_EQ_INT(exc(100, "06 01 1C 00 00"), 0x01); /* its MOSFET offsets are not */
	/* without [limits] nothing acts on them: 0x01 */
	gw.conf->limits.enabled = false;
	CHECK_EQ_INT(-set_req(1, "06 01 A1 00 5A", &allowed, out), 0x01);
	gw.conf->limits.enabled = true;
	CHECK_EQ_INT(set->v[GW_SET_MAX_SOC], 80);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	setup();
	test_fc04();
	test_sunspec();
	test_ranges();
	test_stale();
	test_writes();
	test_settings();
	test_ident();
	gw_answerer_free(ans);
	return check_report();
}
