/* SPDX-License-Identifier: MIT */
/* tests/unit/test_inv_pylon_rs485.c - bmsgw as a Pylontech RS485 battery
 * (gateway/inverter/dialect/emu_pylon_rs485.c): the request framer, through the
 * output's assembly (inv485rx.c), on good, bad, partial and interleaved
 * input in every chunking; every reply byte for byte; the codec as the
 * output calls it, with the options of an [inverter] section, and the
 * limits it reports.  The expected frames were computed apart from the C
 * code, from the layouts of gateway/inverter/PROTOCOLS.md §6 (a short
 * Python rendering); the two outside vectors are ai-republic/
 * bms-to-inverter's request and Fahmula/esphome-pylontech-rs485's 0x63
 * reply. */
#include <stdio.h>
#include <string.h>

#include "../../bms/pylonframe.h"
#include "../../gateway/inverter/codec.h"
#include "../../gateway/inverter/inv485rx.h"
#include "../../gateway/inverter/dialect/emu_pylon_rs485.h"
#include "check.h"

/* inverter-pylon-rs485 PylonInverterRS485ProcessorTest.testReadFrame */
#define REQ_61 "~20024661E00201FD33\r"
/* 55.2 V, 46.4 V, 50 A, 60 A, C0 in 10 mA (Fahmula pylontech_rs485.cpp
 * handle_command_63_ before v1.2.2) and in 100 mA (v1.2.2 on, ours) */
#define REPLY_63_10MA "~20024600D012D7A0B54013881770C0F9BE\r"
#define REPLY_63 "~20024600D012D7A0B54001F40258C0F9B7\r"

#define REQ_63_3 "~20034663E00203FD2E\r"
#define REQ_44 "~20024644E00202FD31\r"
#define REQ_60 "~200246600000FDAC\r"
#define REQ_4F "~2002464F0000FD98\r"
#define REQ_51 "~200246510000FDAC\r"
#define REQ_47 "~200246470000FDA7\r"
#define REQ_92 "~20024692E00202FD2E\r"
#define REQ_42 "~20024642E00202FD33\r"
#define REQ_62 "~200246620000FDAA\r"
#define REQ_63 "~200246630000FDA9\r"
#define REQ_61_CID1_4A "~20024A61E00201FD28\r"
#define BAD_LCHKSUM "~20024661F00201FD32\r"
#define BAD_LENID "~20024661C00401FD33\r"
#define REQ_LOWER "~20024661e00201fd13\r"

/* SOC 81.6 % goes out rounded down: 81 (0x51) */
#define F61 "~200246008062CF85FB2E51007B007B61610D0702090CF001040BA10BC202030B7F01010C090C0900000C090" \
	"0000C090C0900000C090000E90A\r"
#define F42 "~20024600B07E1102100CF80CF00D020CFD0CF60D070CF90CFA0CF70CFC0CFE0CF50CFB0CF40CFF0D01050C" \
	"090B7F0B910BAA0BC2FF85CF85FFFF04FFFF007B013A740186A0E0A5\r"
#define F47 "~20024600B032110D7A0B540B540CD10AAB01F4D7A0B540B5400CD10A470258F2AB\r"
#define F92 "~20024600B01402D7A0B54001F40258C0F955\r"
#define F51 "~20024600C040626D7367770000000000010750594C4F4E000000000000000000000000000000F0EF\r"
#define F4F "~200246000000FDB2\r"
/* 0x60: name "bmsgw" (10), manufacturer "PYLON" (20), version 01 07, 2
 * modules, two serial numbers not known (16 NUL each) */
#define F60 "~2002460060826" "26D7367770000000000" "50594C4F4E" "000000000000000000000000000000" "0107" "02" \
	"0000000000000000000000000000000000000000000000000000000000000000" "E494\r"
#define F62 "~20024600800823702060FC0E\r"
#define F44 "~20024600A04210021000000000000200000000000000000000050000000000020002150E400000F10D\r"

/* The requests an assembly yielded, as text. */
struct got {
	int n, max;
	char (*req)[PYLON485_REQ_MAX + 1];
};

static void got_request(void *arg, const uint8_t *req, size_t n)
{
	struct got *g = arg;
	if (g->n < g->max && n <= PYLON485_REQ_MAX) {
		memcpy(g->req[g->n], req, n);
		g->req[g->n][n] = '\0';
	}
	g->n++;
}

/* Feed s cut at cuts[0..ncuts) (ascending), each chunk as a read() would
 * give it.  Requests go to reqs[0..max); returns their count. */
static int feed_cut(struct inv_485_rx *rx, const char *s, size_t len, const size_t *cuts, int ncuts,
		    char (*reqs)[PYLON485_REQ_MAX + 1], int max)
{
	struct got g = { 0, max, reqs };
	size_t at = 0;

	for (int k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		inv_485_rx_feed(rx, pylon485_scan, (const uint8_t *)s + at, end - at, got_request, &g);
		at = end;
		if (rx->len >= INV_485_RX_MAX)
			return -1;
	}
	return g.n;
}

static int feed_str(struct inv_485_rx *rx, const char *s, char (*reqs)[PYLON485_REQ_MAX + 1], int max)
{
	return feed_cut(rx, s, strlen(s), NULL, 0, reqs, max);
}

#define CNT(rx, v) ((rx).count[INV_SCAN_##v])

/* The bms-to-inverter request in every chunking into 1, 2 and 3 reads,
 * and byte by byte. */
static void test_framer_chunkings(void)
{
	size_t len = strlen(REQ_61);
	int bad = 0, runs = 0;

	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j++) {
			struct inv_485_rx rx;
			char r[2][PYLON485_REQ_MAX + 1];
			size_t cuts[2] = { i, j };
			inv_485_rx_init(&rx);
			int n = feed_cut(&rx, REQ_61, len, cuts, 2, r, 2);
			runs++;
			if (n != 1 || strcmp(r[0], REQ_61) || CNT(rx, REQUEST) != 1 || CNT(rx, NOISE) ||
			    CNT(rx, BAD_FORMAT) || rx.len)
				bad++;
		}
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(runs, (int)((len + 1) * (len + 2) / 2));

	struct inv_485_rx rx;
	char r[2][PYLON485_REQ_MAX + 1];
	size_t cuts[32];
	for (size_t k = 0; k < len - 1; k++)
		cuts[k] = k + 1;
	inv_485_rx_init(&rx);
	CHECK_EQ_INT(feed_cut(&rx, REQ_61, len, cuts, (int)len - 1, r, 2), 1);
	CHECK_STR(r[0], REQ_61);
	/* the request parsed */
	struct pylon485_req q;
	CHECK(pylon485_parse((const uint8_t *)REQ_61, len, &q));
	CHECK(q.ver == 0x20 && q.adr == 2 && q.cid1 == 0x46 && q.cid2 == 0x61 && q.ninfo == 1 && q.info[0] == 1);
	CHECK(!pylon485_parse((const uint8_t *)F4F, strlen(F4F), &q)); /* an answer */
	CHECK(!pylon485_parse((const uint8_t *)">20024661E00201FD33\r", len, &q));
}

/* Good, bad, partial and interleaved input. */
static void test_framer_input(void)
{
	struct inv_485_rx rx;
	char r[4][PYLON485_REQ_MAX + 1];

	/* a bad CHKSUM is counted, never yielded */
	inv_485_rx_init(&rx);
	CHECK_EQ_INT(feed_str(&rx, "~20024661E00201FD34\r", r, 4), 0);
	CHECK_EQ_INT(CNT(rx, BAD_CHECKSUM), 1);
	/* a bad LCHKSUM (CHKSUM right), and a LENGTH that is not the INFO's */
	CHECK_EQ_INT(feed_str(&rx, BAD_LCHKSUM BAD_LENID, r, 4), 0);
	CHECK_EQ_INT(CNT(rx, BAD_LENGTH), 2);
	CHECK_EQ_INT(CNT(rx, BAD_CHECKSUM), 1);
	/* a stray character, a frame too short to be one */
	CHECK_EQ_INT(feed_str(&rx, "~20024661E0G201FD33\r~2002\r", r, 4), 0);
	CHECK_EQ_INT(CNT(rx, BAD_FORMAT), 2);
	/* noise, a truncated frame cut by the next '~', then a good one */
	inv_485_rx_init(&rx);
	CHECK_EQ_INT(feed_str(&rx, "xx\r\n~2002466" REQ_61, r, 4), 1);
	CHECK_STR(r[0], REQ_61);
	CHECK_EQ_INT(CNT(rx, NOISE), 4);
	CHECK_EQ_INT(CNT(rx, BAD_FORMAT), 1);
	/* two requests in one read, and another battery's answer between them */
	inv_485_rx_init(&rx);
	CHECK_EQ_INT(feed_str(&rx, REQ_61 F4F REQ_63_3, r, 4), 2);
	CHECK_STR(r[0], REQ_61);
	CHECK_STR(r[1], REQ_63_3);
	CHECK_EQ_INT(CNT(rx, OTHER), 1);
	CHECK_EQ_INT(CNT(rx, REQUEST), 2);
	/* lower-case hex (checksum over the characters as sent) */
	CHECK_EQ_INT(feed_str(&rx, REQ_LOWER, r, 4), 1);
	struct pylon485_req q;
	CHECK(pylon485_parse((const uint8_t *)r[0], strlen(r[0]), &q) && q.cid2 == 0x61 && q.info[0] == 1);
	/* an overlong frame is dropped, the rest of it up to the next '~' as
	 * noise; the next frame is good */
	char big[300];
	memset(big, '0', sizeof(big));
	big[0] = '~';
	big[sizeof(big) - 1] = '\0';
	inv_485_rx_init(&rx);
	CHECK_EQ_INT(feed_str(&rx, big, r, 4), 0);
	CHECK(rx.len < INV_485_RX_MAX);
	CHECK_EQ_INT(feed_str(&rx, "\r" REQ_61, r, 4), 1);
	CHECK_EQ_INT(CNT(rx, OVERLONG), 1);
	CHECK_EQ_INT(CNT(rx, NOISE), (int)sizeof(big) - 1 - PYLON485_REQ_MAX + 1);
	/* an overlong frame cut by a '~' counts once */
	CHECK_EQ_INT(feed_str(&rx, big, r, 4), 0);
	CHECK_EQ_INT(feed_str(&rx, REQ_61, r, 4), 1);
	CHECK_EQ_INT(CNT(rx, OVERLONG), 2);
	CHECK_EQ_INT(CNT(rx, BAD_FORMAT), 0);
	/* the largest request that fits is accepted */
	uint8_t info[PYLON485_INFO_MAX];
	memset(info, 0xAB, sizeof(info));
	uint8_t fbuf[PYLON485_REQ_MAX + 8];
	int fl = bms_pylonframe_build(fbuf, sizeof(fbuf), 0x20, 2, 0x46, 0x94, info, sizeof(info));
	CHECK(fl > 0 && fl <= PYLON485_REQ_MAX);
	fbuf[fl] = '\0';
	CHECK_EQ_INT(feed_str(&rx, (const char *)fbuf, r, 4), 1);
	CHECK(pylon485_parse((const uint8_t *)r[0], strlen(r[0]), &q));
	CHECK_EQ_INT(q.ninfo, PYLON485_INFO_MAX);
	CHECK_EQ_INT(q.info[PYLON485_INFO_MAX - 1], 0xAB);
	/* the framer alone: a frame begun needs more; its verdict does not
	 * change with what follows */
	size_t n = 99;
	CHECK_EQ_INT(pylon485_scan((const uint8_t *)REQ_61, 10, &n), INV_SCAN_MORE);
	CHECK_EQ_INT((int)n, 0);
	CHECK_EQ_INT(pylon485_scan((const uint8_t *)REQ_61 "zz", strlen(REQ_61) + 2, &n), INV_SCAN_REQUEST);
	CHECK_EQ_INT((int)n, (int)strlen(REQ_61));
	CHECK_EQ_INT(pylon485_scan((const uint8_t *)"ab~", 3, &n), INV_SCAN_NOISE);
	CHECK_EQ_INT((int)n, 2);
}

/* Every good and bad piece of a mixed stream, in every 2-cut chunking:
 * the same requests and counters whatever the cuts. */
static void test_framer_stream_chunkings(void)
{
	const char *s = "zz" REQ_61 "~20024661E00201FD34\r" BAD_LCHKSUM "~2002" F62 REQ_63_3;
	size_t len = strlen(s);
	int bad = 0;

	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j += 3) {
			struct inv_485_rx rx;
			char r[4][PYLON485_REQ_MAX + 1];
			size_t cuts[2] = { i, j };
			inv_485_rx_init(&rx);
			int n = feed_cut(&rx, s, len, cuts, 2, r, 4);
			if (n != 2 || strcmp(r[0], REQ_61) || strcmp(r[1], REQ_63_3) || CNT(rx, BAD_CHECKSUM) != 1 ||
			    CNT(rx, BAD_LENGTH) != 1 || CNT(rx, BAD_FORMAT) != 1 || CNT(rx, OTHER) != 1 ||
			    CNT(rx, NOISE) != 2)
				bad++;
		}
	}
	CHECK_EQ_INT(bad, 0);
}

/* B1: a 16-cell pack with everything known. */
static void battery_b1(struct inv_battery *b)
{
	static const uint16_t cells[16] = { 3320, 3312, 3330, 3325, 3318, 3335, 3321, 3322,
					    3319, 3324, 3326, 3317, 3323, 3316, 3327, 3329 };
	static const float temps[4] = { 21.2f, 23.0f, 25.5f, 27.9f };

	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT |
		     INV_HAS_TEMP | INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX | INV_HAS_MOS_TEMP |
		     INV_HAS_CYCLES | INV_HAS_REMAIN | INV_HAS_FULL | INV_HAS_ALARMS | INV_HAS_CELLS |
		     INV_HAS_TEMPS;
	b->cvl_v = 55.2f;
	b->ccl_a = 50;
	b->dcl_a = 60;
	b->dvl_v = 46.4f;
	b->charge_allowed = b->discharge_allowed = true;
	b->soc = 81.6f;
	b->soh = 97.4f;
	b->voltage = 53.125f;
	b->current = -12.34f;
	b->temp_c = 24.56f;
	b->cell_min_mv = 3312;
	b->cell_min_at = (struct inv_where){ 1, 4 };
	b->cell_max_mv = 3335;
	b->cell_max_at = (struct inv_where){ 2, 9 };
	b->temp_min_c = 21.2f;
	b->temp_min_at = (struct inv_where){ 1, 1 };
	b->temp_max_c = 27.9f;
	b->temp_max_at = (struct inv_where){ 2, 3 };
	b->mos_temp_c = 35.0f;
	b->cycles = 123;
	b->remain_ah = 80.5f;
	b->full_ah = 100;
	b->packs = 2;
	strcpy(b->manufacturer, "PYLON");
	b->ncells = 16;
	memcpy(b->cell_mv, cells, sizeof(cells));
	b->ntemps = 4;
	memcpy(b->temps_c, temps, sizeof(temps));
	b->series_cells = 16;
}

/* The reply to request frame req (found by the framer) as a string. */
static int reply_to(const struct pylon485_cfg *c, const char *req, const struct inv_battery *b,
		    char *out, size_t cap)
{
	struct inv_485_rx rx;
	char r[1][PYLON485_REQ_MAX + 1];
	struct pylon485_req q;
	struct inv_encoded e;

	inv_485_rx_init(&rx);
	if (feed_str(&rx, req, r, 1) != 1 || !pylon485_parse((const uint8_t *)r[0], strlen(r[0]), &q))
		return -100;
	int n = pylon485_reply(c, &q, b, (uint8_t *)out, cap - 1, &e);
	if (n >= 0)
		out[n] = '\0';
	return n;
}

#define REPLY_IS(cfg, req, b, want) do { \
	char got_[PYLON485_REPLY_MAX + 1]; \
	int n_ = reply_to(cfg, req, b, got_, sizeof(got_)); \
	CHECK_EQ_INT(n_, (int)strlen(want)); \
	CHECK_STR(n_ > 0 ? got_ : "", want); \
} while (0)

static void test_replies(void)
{
	struct pylon485_cfg c = { .address = 2, .reply_address = -1, .sw_version = 0x0107 };
	struct inv_battery b;

	battery_b1(&b);
	REPLY_IS(&c, REQ_63, &b, REPLY_63);
	c.flags = PYLON485_CUR_10MA;
	REPLY_IS(&c, REQ_63, &b, REPLY_63_10MA);
	c.flags = 0;
	REPLY_IS(&c, REQ_61, &b, F61);
	REPLY_IS(&c, REQ_42, &b, F42);
	REPLY_IS(&c, REQ_47, &b, F47);
	REPLY_IS(&c, REQ_92, &b, F92);
	REPLY_IS(&c, REQ_51, &b, F51);
	REPLY_IS(&c, REQ_4F, &b, F4F);
	REPLY_IS(&c, REQ_60, &b, F60);
	/* alarms: CELL_OV, CHG_OC and SHORT protecting, more warnings */
	b.protect = BMS_AL_CELL_OV | BMS_AL_CHG_OC | BMS_AL_SHORT;
	b.warn = b.protect | BMS_AL_CELL_DIFF | BMS_AL_COMM | BMS_AL_MOS_OT;
	REPLY_IS(&c, REQ_62, &b, F62);
	REPLY_IS(&c, REQ_44, &b, F44);
}

/* The dialects: VER 0x28 (Voltronic's "PYL" mode, diyBMSv4ESP32's
 * pylon_rs485.cpp), VER as asked (echo), currents in 10 mA. */
static void test_dialects(void)
{
	struct pylon485_cfg c = { .address = 2, .reply_address = -1, .ver = 0x28 };
	struct inv_battery b;
	char out[PYLON485_REPLY_MAX + 1];
	uint8_t info[128];
	struct bms_pylonframe h;

	battery_b1(&b);
	REPLY_IS(&c, REQ_4F, &b, "~280246000000FDAA\r");
	REPLY_IS(&c, "~2802464F0000FD90\r", &b, "~280246000000FDAA\r");
	c.ver = PYLON485_VER_ECHO;
	REPLY_IS(&c, "~2802464F0000FD90\r", &b, "~280246000000FDAA\r");
	REPLY_IS(&c, REQ_4F, &b, F4F);
	c.ver = 0;
	REPLY_IS(&c, "~2802464F0000FD90\r", &b, F4F);
	/* 10 mA: 0x42's current, 0x47's and 0x63's limits */
	c.flags = PYLON485_CUR_10MA;
	REPLY_IS(&c, REQ_63, &b, REPLY_63_10MA);
	int n = reply_to(&c, REQ_42, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, info, sizeof(info)) == BMS_OK);
	size_t k = 3 + 2 * info[2];
	k += 1 + 2 * info[k];
	CHECK_EQ_INT((int16_t)bms_be16(info + k), -1234);   /* -12.34 A in 10 mA */
	c.flags = 0;
	n = reply_to(&c, REQ_42, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, info, sizeof(info)) == BMS_OK);
	CHECK_EQ_INT((int16_t)bms_be16(info + k), -123);    /* in 100 mA */
	c.flags = PYLON485_CUR_10MA;
	n = reply_to(&c, REQ_47, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, info, sizeof(info)) == BMS_OK);
	CHECK_EQ_INT(bms_be16(info + 11), 5000);            /* CCL 50 A in 10 mA */
	CHECK_EQ_INT(bms_be16(info + 23), 6000);            /* DCL 60 A */
}

/* Addressing: another ADR is not answered unless reply_address is set,
 * then it is answered from that ADR; another device type never. */
static void test_addressing(void)
{
	struct pylon485_cfg c = { .address = 2, .reply_address = -1 };
	struct inv_battery b;
	char out[PYLON485_REPLY_MAX + 1];

	battery_b1(&b);
	CHECK_EQ_INT(reply_to(&c, REQ_63_3, &b, out, sizeof(out)), 0);
	CHECK_EQ_INT(reply_to(&c, REQ_61_CID1_4A, &b, out, sizeof(out)), 0);
	c.reply_address = 2;
	REPLY_IS(&c, REQ_63_3, &b, REPLY_63);
	CHECK_EQ_INT(reply_to(&c, REQ_61_CID1_4A, &b, out, sizeof(out)), 0);
	/* answering ADR 3 from ADR 3 */
	c.address = 3;
	c.reply_address = -1;
	CHECK(reply_to(&c, REQ_63_3, &b, out, sizeof(out)) > 0);
	CHECK(strncmp(out, "~20034600D012", 13) == 0);
	/* too small a buffer */
	c.address = 2;
	CHECK_EQ_INT(reply_to(&c, REQ_61, &b, out, 40), -1);
	/* our own reply fed back (an echo on the bus) is no request */
	struct inv_485_rx rx;
	char r[1][PYLON485_REQ_MAX + 1];
	inv_485_rx_init(&rx);
	CHECK_EQ_INT(feed_str(&rx, F61 REPLY_63, r, 1), 0);
	CHECK_EQ_INT(CNT(rx, OTHER), 2);
}

/* The limits: rounding toward the safe side, clamping, the flags. */
static void test_limits(void)
{
	struct pylon485_cfg c = { .address = 2, .reply_address = -1 };
	struct inv_battery b;
	char out[PYLON485_REPLY_MAX + 1];
	uint8_t info[16];
	struct bms_pylonframe h;

	battery_b1(&b);
	b.cvl_v = 55.1999f;      /* 55199.9 mV: down to 55199 */
	b.dvl_v = 46.4001f;      /* 46400.1 mV: up to 46401 */
	b.ccl_a = 5000;          /* 50000 x 100 mA: clamped to 32767 */
	b.dcl_a = -5;            /* a negative limit: 0 */
	b.force_charge = b.full_charge_request = true;
	int n = reply_to(&c, REQ_63, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, info, sizeof(info)) == BMS_OK);
	CHECK_EQ_INT(h.ninfo, 9);
	CHECK_EQ_INT(bms_be16(info), 55199);
	CHECK_EQ_INT(bms_be16(info + 2), 46401);
	CHECK_EQ_INT(bms_be16(info + 4), 32767);
	CHECK_EQ_INT(bms_be16(info + 6), 0);
	/* the DCL's field is 0: no discharge bit */
	CHECK_EQ_INT(info[8], 0x80 | 0x30 | 0x08);
	/* charging not allowed: CCL 0, bit 7 clear whatever ccl_a says, and no
	 * force charge; discharging allowed */
	b.ccl_a = 50;
	b.dcl_a = 60;
	b.charge_allowed = false;
	n = reply_to(&c, REQ_63, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, info, sizeof(info)) == BMS_OK);
	CHECK_EQ_INT(bms_be16(info + 4), 0);
	CHECK_EQ_INT(info[8], 0x40 | 0x08);
	/* a current under one field step: 0, and its bit clear */
	b.charge_allowed = true;
	b.ccl_a = 0.09f;
	n = reply_to(&c, REQ_63, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, info, sizeof(info)) == BMS_OK);
	CHECK_EQ_INT(bms_be16(info + 4), 0);
	CHECK_EQ_INT(info[8], 0x40 | 0x08);
	/* no limits at all: every value 0 and nothing enabled */
	b.present &= ~(uint32_t)INV_HAS_LIMITS;
	n = reply_to(&c, REQ_63, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, info, sizeof(info)) == BMS_OK);
	for (int k = 0; k < 9; k++)
		CHECK_EQ_INT(info[k], 0);
	/* 0x61 current at its field's limit: -400 A in 10 mA clamps to -32768 */
	battery_b1(&b);
	b.current = -400;
	n = reply_to(&c, REQ_61, &b, out, sizeof(out));
	uint8_t i61[64];
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, i61, sizeof(i61)) == BMS_OK);
	CHECK_EQ_INT(h.ninfo, 49);
	CHECK_EQ_INT(bms_be16(i61 + 2), 0x8000);
	/* a bank's: no pack's cells (series_cells 0, no list), the bank's 16
	 * cells in series: 0x47's cell limits are CVL and DVL over them, not 0 */
	battery_b1(&b);
	b.present &= ~(uint32_t)INV_HAS_CELLS;
	b.series_cells = 0;
	b.total_cells = 16;
	n = reply_to(&c, REQ_47, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, i61, sizeof(i61)) == BMS_OK);
	CHECK_EQ_INT(bms_be16(i61 + 1), 3450); /* 55.2 V / 16, down */
	CHECK_EQ_INT(bms_be16(i61 + 3), 2900); /* 46.4 V / 16, up */
	CHECK_EQ_INT(bms_be16(i61 + 5), 2900);
	/* no cell count at all (a pack with no cell list): nothing to divide by */
	b.total_cells = 0;
	n = reply_to(&c, REQ_47, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, i61, sizeof(i61)) == BMS_OK);
	CHECK_EQ_INT(bms_be16(i61 + 1), 0);
	/* an empty battery: 0x42 with no cells and no sensors stays well formed */
	memset(&b, 0, sizeof(b));
	n = reply_to(&c, REQ_42, &b, out, sizeof(out));
	CHECK(n > 0 && bms_pylonframe_parse((uint8_t *)out, (size_t)n, &h, i61, sizeof(i61)) == BMS_OK);
	CHECK_EQ_INT(h.ninfo, 2 + 1 + 1 + 2 + 2 + 2 + 1 + 2 + 2);
	CHECK_EQ_INT(i61[2], 0); /* M */
	CHECK_EQ_INT(i61[3], 0); /* N */
	CHECK_EQ_INT(i61[10], 2); /* P: u16 capacities */
}

/* The codec as the output calls it: the options from an [inverter]
 * section, which requests are ours, the answer and the limits it
 * reports. */
static int codec_answer(const struct conf_inverter *c, const char *req, const struct inv_battery *b,
			char *out, size_t cap, struct inv_encoded *e)
{
	const struct inv_485_codec *k = &inv_codec_pylon_rs485.rs485;
	size_t n = strlen(req), used;

	if (k->scan((const uint8_t *)req, n, &used) != INV_SCAN_REQUEST || used != n)
		return -100;
	bool ours = k->ours(c, (const uint8_t *)req, n);
	int len = k->answer(c, NULL, b, (const uint8_t *)req, n, (uint8_t *)out, cap - 1, e);
	if (ours != (len != 0))
		return -101;
	if (len >= 0)
		out[len] = '\0';
	return len;
}

static void test_codec(void)
{
	struct conf_inverter c;
	struct inv_battery b;
	struct inv_encoded e;
	char out[PYLON485_REPLY_MAX + 1];

	CHECK(inv_codec_of(CONF_INV_PYLON_RS485) == &inv_codec_pylon_rs485);
	CHECK(inv_dialect_kind(CONF_INV_PYLON_RS485) == CONF_INV_RS485);
	memset(&c, 0, sizeof(c));
	c.address = 2;
	c.reply_address = -1;
	strcpy(c.manufacturer, "PYLON");
	battery_b1(&b);
	CHECK_EQ_INT(codec_answer(&c, REQ_63, &b, out, sizeof(out), &e), (int)strlen(REPLY_63));
	CHECK_STR(out, REPLY_63);
	CHECK(e.limits);
	CHECK_NEAR(e.ccl_a, 50, 1e-3);
	CHECK_NEAR(e.dcl_a, 60, 1e-3);
	/* 0x61 carries no limits */
	CHECK(codec_answer(&c, REQ_61, &b, out, sizeof(out), &e) > 0);
	CHECK(!e.limits);
	/* current_unit = 10mA; 0x92 stays in 100 mA; what 0x47 carries */
	c.current_unit = CONF_CURRENT_10MA;
	CHECK_EQ_INT(codec_answer(&c, REQ_63, &b, out, sizeof(out), &e), (int)strlen(REPLY_63_10MA));
	CHECK_STR(out, REPLY_63_10MA);
	b.ccl_a = 12.345f; /* 1234 x 10 mA, 123 x 100 mA: rounded down */
	CHECK(codec_answer(&c, REQ_47, &b, out, sizeof(out), &e) > 0);
	CHECK(e.limits);
	CHECK_NEAR(e.ccl_a, 12.34, 1e-3);
	CHECK(codec_answer(&c, REQ_92, &b, out, sizeof(out), &e) > 0);
	CHECK(e.limits);
	CHECK_NEAR(e.ccl_a, 12.3, 1e-3);
	/* charging not allowed: the limit sent is 0 */
	b.charge_allowed = false;
	CHECK(codec_answer(&c, REQ_63, &b, out, sizeof(out), &e) > 0);
	CHECK(e.limits && e.ccl_a == 0);
	CHECK_NEAR(e.dcl_a, 60, 1e-3);
	/* ver: 0x28, echo; the name in 0x51 is the manufacturer key */
	battery_b1(&b);
	c.current_unit = CONF_CURRENT_100MA;
	c.ver = 0x28;
	CHECK(codec_answer(&c, REQ_4F, &b, out, sizeof(out), &e) > 0);
	CHECK_STR(out, "~280246000000FDAA\r");
	c.ver = CONF_VER_ECHO;
	CHECK(codec_answer(&c, "~2802464F0000FD90\r", &b, out, sizeof(out), &e) > 0);
	CHECK_STR(out, "~280246000000FDAA\r");
	c.ver = 0;
	CHECK(codec_answer(&c, REQ_51, &b, out, sizeof(out), &e) > 0);
	CHECK(strncmp(out + 13, "50594C4F4E", 10) == 0);
	/* addressing: another ADR is not ours, unless reply_address */
	CHECK_EQ_INT(codec_answer(&c, REQ_63_3, &b, out, sizeof(out), &e), 0);
	CHECK(!e.limits);
	CHECK_EQ_INT(codec_answer(&c, REQ_61_CID1_4A, &b, out, sizeof(out), &e), 0);
	c.reply_address = 2;
	CHECK_EQ_INT(codec_answer(&c, REQ_63_3, &b, out, sizeof(out), &e), (int)strlen(REPLY_63));
	CHECK_STR(out, REPLY_63);
	c.reply_address = -1;
	c.address = 3;
	CHECK(codec_answer(&c, REQ_63_3, &b, out, sizeof(out), &e) > 0);
	CHECK(strncmp(out, "~20034600D012", 13) == 0);
	/* too small a buffer; bytes that are no request */
	CHECK_EQ_INT(inv_codec_pylon_rs485.rs485.answer(&c, NULL, &b, (const uint8_t *)REQ_63_3, strlen(REQ_63_3),
							(uint8_t *)out, 20, &e), -1);
	CHECK(!e.limits);
	CHECK(!inv_codec_pylon_rs485.rs485.ours(&c, (const uint8_t *)"~2003", 5));
	CHECK_EQ_INT(inv_codec_pylon_rs485.rs485.answer(&c, NULL, &b, (const uint8_t *)F4F, strlen(F4F),
							(uint8_t *)out, sizeof(out), &e), 0);
}

int main(void)
{
	test_framer_chunkings();
	test_framer_input();
	test_framer_stream_chunkings();
	test_replies();
	test_dialects();
	test_addressing();
	test_limits();
	test_codec();
	return check_report();
}
