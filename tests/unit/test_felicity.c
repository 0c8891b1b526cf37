/* SPDX-License-Identifier: MIT */
/* tests/unit/test_felicity.c - Felicity Solar batteries over Bluetooth LE
 * (bms/felicity.c): the felicity rows of tests/fixtures/vectors.tsv (the
 * real-time, basic-information and date answers of a LUX-Y-48300LG01, and
 * the real-time and basic answers of pack 1 of a two-pack bank) through
 * next_request() + scan() + handle() as the gateway's poll runs them, in
 * 35-byte notifications and every other chunking, with noise and a stale
 * answer before them; the pack's own values read (BattList, BBfault /
 * BBwarn), never the bank's (Batt, Bfault / Bwarn); and broken: every
 * truncation, JSON that is not well-formed (trailing comma, missing colon,
 * too deep, leading zero, escapes, duplicate keys, overlong strings and
 * numbers, brackets that do not match), another CommVer, values out of
 * range, keys missing (BattList among them), nulls.
 * Protocol facts: bms/PROTOCOLS.md §36. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_felicity_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family felicity */
static const char FELICITY_01[] =
	"{\"CommVer\":1,\"wifiSN\":\"F100011002424470238\",\"modID\":1,\"date\":\"20210101010501\",\"DevSN\":\"100011002424470238\","
	"\"Type\":112,\"SubType\":7300,\"Estate\":960,\"Bfault\":0,\"Bwarn\":0,\"Bstate\":960,\"BBfault\":0,"
	"\"BBwarn\":0,\"BTemp\":[[130,130],[256,256]],\"Batt\":[[52800],[-1],[null]],\"Batsoc\":[[3300,"
	"1000,300000]],\"Templist\":[[130,130],[0,0],[65535,65535],[65535,65535]],\"BattList\":[[52750,"
	"65535],[-1,-1]],\"BatsocList\":[[3300,1000,300000]],\"BatcelList\":[[3296,3296,3297,3297,"
	"3297,3297,3297,3297,3297,3297,3296,3297,3297,3297,3297,3297],[65535,65535,65535,65535,"
	"65535,65535,65535,65535,65535,65535,65535,65535,65535,65535,65535,65535]],\"EMSpara\":[[1,"
	"2]],\"BMaxMin\":[[3297,3296],[2,0]],\"LVolCur\":[[576,480],[1500,1500]],\"BMSpara\":[[1,"
	"2]],\"BLVolCu\":[[576,480],[1500,1500]],\"BtemList\":[[130,130,130,130,32767,32767,32767,"
	"32767]]}";
static const char FELICITY_02[] =
	"{\"CommVer\":1,\"version\":\"2.06\",\"wifiSN\":\"F100011002424470238\",\"COM\":3,\"iotType\":3,"
	"\"modID\":1,\"DevSN\":\"100011002424470238\",\"Type\":112,\"SubType\":7300,\"DSwVer\":65535,\"M1SwVer\":519,"
	"\"M2SwVer\":16,\"DHwVer\":0,\"CtHwVer\":0,\"PwHwVer\":65535}";
static const char FELICITY_03[] =
	"{\"CommVer\":1,\"wifiSN\":\"F100011002424470238\",\"iotType\":3,\"dateTime\":\"20210101010459\","
	"\"timeZMin\":480}";
/* pack 1 of a bank of two FLB48314TG1 (its serials masked by the source) */
static const char FELICITY_04[] =
	"{\"CommVer\":1,\"wifiSN\":\"F0757048314XXXXXXXX\",\"modID\":1,\"date\":\"20260722144050\","
	"\"DevSN\":\"0757048314XXXXXXXX\",\"Type\":112,\"SubType\":7353,\"workM\":0,\"Estate\":9152,"
	"\"Bfault\":0,\"Bwarn\":0,\"Bstate\":9152,\"BBfault\":0,\"BBwarn\":0,\"HtCuSt\":0,"
	"\"BTemp\":[[190,180],[513,256]],\"Batt\":[[53500],[19],[null]],\"Batsoc\":[[8450,1000,700000]],"
	"\"Templist\":[[180,180],[0,0],[65535,65535],[65535,65535]],\"BattList\":[[53530,65535],[9,-1]],"
	"\"BatsocList\":[[8400,1000,350000]],\"BatcelList\":[[3347,3347,3348,3347,3347,3347,3347,3347,"
	"3348,3347,3347,3347,3347,3347,3348,3347],[65535,65535,65535,65535,65535,65535,65535,65535,65535,"
	"65535,65535,65535,65535,65535,65535,65535]],\"EMSpara\":[[2,6]],\"BMaxMin\":[[3348,3347],[2,0]],"
	"\"LVolCur\":[[576,480],[2480,3200]],\"BMSpara\":[[2,6]],\"BLVolCu\":[[576,480],[1280,1600]],"
	"\"BtemList\":[[180,180,180,180,32767,32767,32767,32767]]}";
static const char FELICITY_05[] =
	"{\"CommVer\":1,\"version\":\"2.15\",\"wifiSN\":\"F0757048314XXXXXXXX\",\"COM\":3,\"iotType\":3,"
	"\"modID\":1,\"DevSN\":\"0757048314XXXXXXXX\",\"Type\":112,\"SubType\":7353,\"DSwVer\":65535,"
	"\"M1SwVer\":203,\"M2SwVer\":8,\"DHwVer\":0,\"CtHwVer\":0,\"PwHwVer\":65535,\"BDsVer\":65535,"
	"\"RD\":1,\"RDT\":4}";
static const char REQ_RT[] = "wifilocalMonitor:get dev real infor";
static const char REQ_BASIC[] = "wifilocalMonitor:get dev basice infor";

static const size_t notif35[] = { 35 };
static const size_t chunks_odd[] = { 1, 2, 7, 13, 1, 26, 3, 11, 40, 200 };

/* src with the first `from` replaced by `to`, into out (cap 4096). */
static const char *subst(const char *src, const char *from, const char *to, char *out)
{
	const char *at = strstr(src, from);
	CHECK(at != NULL);
	if (!at)
		return src;
	snprintf(out, 4096, "%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
	return out;
}

/* FELICITY-01: BattList's 52.750 V (the cells' sum), not Batt's 52.800. */
static void check_01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[16] = { 3296, 3296, 3297, 3297, 3297, 3297, 3297, 3297,
					3297, 3297, 3296, 3297, 3297, 3297, 3297, 3297 };
	drive_check_cells(s, c, 16);
	CHECK_NEAR(s->voltage, 52.75, 1e-4);
	CHECK_NEAR(s->current, inv ? 0.1 : -0.1, 1e-5);
	CHECK_NEAR(s->soc, 33.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 99.0, 1e-4); /* 3300 x 300000 / 1e7 (aiobmsble) */
	CHECK_NEAR(s->full_ah, 300.0, 1e-4);  /* LUX-Y-48300: 48 V 300 Ah */
	CHECK_EQ_INT(s->ntemps, 4);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(s->temp_c[i], 13.0, 1e-5);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0);
	CHECK_EQ_INT(s->state, inv ? 1 : 2);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
				 BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS);
}

/* FELICITY-04, pack 1 of two: its own 53.530 V and +0.9 A (BattList), not
 * the bank's 53.500 V and +1.9 A (Batt); its 84.00 % of 350 Ah
 * (BatsocList), not the bank's 84.50 % of 700 Ah (Batsoc). */
static void check_04(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[16] = { 3347, 3347, 3348, 3347, 3347, 3347, 3347, 3347,
					3348, 3347, 3347, 3347, 3347, 3347, 3348, 3347 };
	drive_check_cells(s, c, 16);
	CHECK_NEAR(s->voltage, 53.53, 1e-4);
	CHECK_NEAR(s->current, inv ? -0.9 : 0.9, 1e-5);
	CHECK_NEAR(s->soc, 84.0, 1e-6);
	CHECK_NEAR(s->full_ah, 350.0, 1e-3);
	CHECK_NEAR(s->remain_ah, 294.0, 1e-3);
	CHECK_EQ_INT(s->ntemps, 4);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(s->temp_c[i], 18.0, 1e-5);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0);
	CHECK_EQ_INT(s->state, inv ? 2 : 1);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
				 BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "felicity");
	CHECK_EQ_INT(drv->protocol_id, 29);
	CHECK(bms_find("felicity") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && drv->next_request && !drv->listens && drv->timeout);
	CHECK_STR(drv->ble->gatt[0].service, "6e6f736a-4643-4d44-8fa9-0fafd005e455");
	CHECK_STR(drv->ble->gatt[0].notify, "49535458-8341-43f4-a9d4-ec0e34729bb3");
	CHECK_STR(drv->ble->gatt[0].write, "49535258-184d-4bd9-bc61-20c647249616");
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(!drv->control && !drv->probe && !drv->ble->company);
	CHECK(!(drv->provides & (BMS_HAS_SOH | BMS_HAS_CYCLES | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE |
				 BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS)));
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_NAME && h[0].name_ok);
	CHECK(h[0].name_ok("F100011002424470238"));
	CHECK(h[0].name_ok("F07123456789"));
	CHECK(!h[0].name_ok("F10"));
	CHECK(!h[0].name_ok("F10-Speaker-1234"));
	CHECK(!h[0].name_ok("F200011002424470238"));
	CHECK(!h[0].name_ok("f100011002424470238"));
	CHECK(h[1].why == NULL);
}

/* A first poll of a connection: RT, then the identity, in 35-byte
 * notifications (as the module sends them), one byte at a time, odd chunks
 * and whole; the current inverted too.  A later poll asks RT only. */
static void test_polls(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[64];
	const size_t *chs[] = { notif35, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 4; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct drive_res r = { 0 };
			memset(&poll.kept, 0, sizeof(poll.kept));
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 35);
			CHECK(memcmp(req, REQ_RT, 35) == 0);
			CHECK_EQ_INT(drv->next_request(&poll, req, 34), BMS_E_NOSPACE);
			struct drive_answer a[2] = {
				{ (const uint8_t *)FELICITY_01, strlen(FELICITY_01), chs[k], nchs[k], 0, 35 },
				{ (const uint8_t *)FELICITY_02, strlen(FELICITY_02), chs[k], nchs[k], 0, 37 },
			};
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 2, &r), BMS_OK);
			check_01(&poll.snap, inv);
			CHECK_EQ_INT(r.badsum + r.bad_scan + r.err, 0);
			CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
			CHECK_STR(poll.kept.ident.vendor, "Felicity Solar");
			CHECK_STR(poll.kept.ident.firmware, "519 (module 2.06)");
			CHECK_STR(poll.kept.ident.model, "type 112/7300");
			CHECK_STR(poll.kept.ident.serial, "100011002424470238");
			/* the next poll: RT only */
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, false);
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
			check_01(&poll.snap, inv);
		}
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(poll.snap.power, 5.275, 1e-3); /* the last one inverted: +0.1 A */
	memset(&poll.kept, 0, sizeof(poll.kept));
	/* the basic request's bytes */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)FELICITY_01, strlen(FELICITY_01)), BMS_OK);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 37);
	CHECK(memcmp(req, REQ_BASIC, 37) == 0);
	/* the identity not answered: the poll ends without it, not asked again */
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(!drv->timeout(&poll)); /* RT unanswered fails the step */
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* forced cell count */
	drive_begin_link(&poll, &rx, 0, 4, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)FELICITY_01, strlen(FELICITY_01)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	CHECK_EQ_INT(poll.snap.cell_mv[4], 0);
}

/* Pack 1 of a two-pack bank (FELICITY-04, -05): a first poll, RT and the
 * identity, in 35-byte notifications and odd chunks; the pack's values,
 * not the bank's. */
static void test_bank_pack(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	const size_t *chs[] = { notif35, chunks_odd };
	const size_t nchs[] = { 1, DRIVE_NCH(chunks_odd) };
	for (int k = 0; k < 2; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct drive_res r = { 0 };
			memset(&poll.kept, 0, sizeof(poll.kept));
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			struct drive_answer a[2] = {
				{ (const uint8_t *)FELICITY_04, strlen(FELICITY_04), chs[k], nchs[k], 0, 35 },
				{ (const uint8_t *)FELICITY_05, strlen(FELICITY_05), chs[k], nchs[k], 0, 37 },
			};
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 2, &r), BMS_OK);
			CHECK_EQ_INT(r.badsum + r.bad_scan + r.err, 0);
			check_04(&poll.snap, inv);
			CHECK_STR(poll.kept.ident.firmware, "203 (module 2.15)");
			CHECK_STR(poll.kept.ident.model, "type 112/7353");
			CHECK_STR(poll.kept.ident.serial, "0757048314XXXXXXXX");
		}
}

/* A poll of a link that is not fresh, its identity known: RT only. */
static void begin_rt(struct bms_poll *poll, struct bms_rx *rx)
{
	drive_begin_link(poll, rx, 0, 0, false, BMS_LINK_BLE, false);
	poll->kept.ident_state = BMS_IDENT_HAVE;
}

/* Stray bytes and a stale "get Date" answer (FELICITY-03) before the RT
 * answer, every split into two reads: the date is ignored, RT taken. */
static void test_noise(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char buf[2048];
	int len = snprintf(buf, sizeof(buf), "\r\n}]x%s%s", FELICITY_03, FELICITY_01);
	for (int k = 1; k < len; k++) {
		const size_t two[] = { (size_t)k, (size_t)(len - k) };
		begin_rt(&poll, &rx);
		struct drive_res r = drive_feed_bytes(&poll, &rx, (const uint8_t *)buf, (size_t)len, two, 2);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.unexpected, 1);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_01(&poll.snap, false);
	}
	/* the date and basic answers are not RT's; RT is not the identity */
	begin_rt(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)FELICITY_03, strlen(FELICITY_03)), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)FELICITY_02, strlen(FELICITY_02)), BMS_E_UNEXPECTED);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)FELICITY_01, strlen(FELICITY_01)), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)FELICITY_01, strlen(FELICITY_01)), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)FELICITY_03, strlen(FELICITY_03)), BMS_E_UNEXPECTED);
}

/* An answer cut at every length (a lost notification), then a whole one:
 * the cut one is dropped at the next '{', the whole one taken. */
static void test_truncated(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char buf[2048];
	size_t n = strlen(FELICITY_01);
	for (size_t k = 1; k < n; k++) {
		memcpy(buf, FELICITY_01, k);
		memcpy(buf + k, FELICITY_01, n);
		begin_rt(&poll, &rx);
		struct drive_res r = drive_feed_bytes(&poll, &rx, (const uint8_t *)buf, k + n, notif35, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.bad_scan, 0);
		check_01(&poll.snap, false);
	}
	/* cut, and nothing after it: no frame (more bytes wanted) */
	for (size_t k = 1; k < n; k++) {
		size_t m = 0;
		CHECK(drv->scan(&poll, (const uint8_t *)FELICITY_01, k, &m) == BMS_SCAN_NEED);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)FELICITY_01, k), k < 2 ? BMS_E_HEADER : BMS_E_CHECKSUM);
	}
	/* aiobmsble's broken answers: no '{' (skipped whole), no '}' (waits) */
	static const char nostart[] = "\"CommVer\":1,\"wifiSN\":\"F100011002424470238\"}";
	static const char noend[] = "{\"CommVer\":1,\"wifiSN\":\"F100011002424470238\"";
	size_t m = 0;
	CHECK(drv->scan(&poll, (const uint8_t *)nostart, strlen(nostart), &m) == BMS_SCAN_SKIP);
	CHECK_EQ_INT(m, strlen(nostart));
	CHECK(drv->scan(&poll, (const uint8_t *)noend, strlen(noend), &m) == BMS_SCAN_NEED);
}

/* JSON that is not well-formed (or beyond the parser's bounds): BADSUM
 * from scan() over its whole length, BMS_E_CHECKSUM from handle(). */
static void test_malformed(void)
{
	static const char *const bad[] = {
		"{\"CommVer\":1,}",
		"{\"CommVer\" 1}",
		"{\"CommVer\":1,\"Batt\":[[[52800]]]}",
		"{\"CommVer\":1,\"x\":01}",
		"{\"CommVer\":1,\"x\":-}",
		"{\"CommVer\":1,\"x\":1.}",
		"{\"CommVer\":1,\"x\":1e}",
		"{\"CommVer\":1,\"x\":\"a\\u0041\"}",
		"{\"CommVer\":1,\"x\":nul}",
		"{\"CommVer\":1,\"x\":[1,2]]}",
		"{\"CommVer\":1,\"x\":[1,2}",
		"{\"CommVer\":1,\"x\":[1,,2]}",
		"{\"CommVer\":1,\"x\":[1 2]}",
		"{\"CommVer\":1,\"CommVer\":1}",
		"{\"CommVer\":1,\"x\":\"tab\there\"}",
		"{\"CommVer\":1,\"x\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
		"{\"CommVer\":1,\"x\":1234567890123456789012345}",
		"{\"CommVer\":1 \"x\":1}",
		"{CommVer:1}",
		"{\"CommVer\":1,\"x\":true1}",
	};
	struct bms_poll poll = { 0 };
	for (size_t i = 0; i < DRIVE_NCH(bad); i++) {
		size_t n = strlen(bad[i]), m = 0;
		enum bms_scan s = drv->scan(&poll, (const uint8_t *)bad[i], n, &m);
		if (s != BMS_SCAN_BADSUM || m < 1 || m > n)
			fprintf(stderr, "malformed %zu: %s: scan %d, %zu\n", i, bad[i], (int)s, m);
		CHECK(s == BMS_SCAN_BADSUM && m >= 1 && m <= n);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)bad[i], n), BMS_E_CHECKSUM);
	}
	/* well-formed, what the parser allows beside: blanks, escapes, an empty
	 * array, fractions and exponents in keys not read, true / false */
	static const char ok[] = "{ \"CommVer\" : 1 , \"s\":\"a\\\"b\\\\\" ,\"e\":[],\"f\":-1.5e+3,\"t\":[true,false,null]}";
	size_t m = 0;
	CHECK(drv->scan(&poll, (const uint8_t *)ok, strlen(ok), &m) == BMS_SCAN_FRAME);
	CHECK_EQ_INT(m, strlen(ok));
	/* longer than the parser's bound: never a frame */
	char big[3000];
	int n = snprintf(big, sizeof(big), "{\"CommVer\":1,\"x\":[");
	while (n < 2100)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "1,");
	n += snprintf(big + n, sizeof(big) - (size_t)n, "1]}");
	CHECK(drv->scan(&poll, (const uint8_t *)big, (size_t)n, &m) == BMS_SCAN_SKIP);
	CHECK_EQ_INT(m, 1);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)big, (size_t)n), BMS_E_CHECKSUM);
	/* a '{' inside: a new answer begins there */
	static const char two[] = "{\"CommVer\":1,\"x\":\"F10{\"CommVer\":1}";
	CHECK(drv->scan(&poll, (const uint8_t *)two, strlen(two), &m) == BMS_SCAN_SKIP);
	CHECK_EQ_INT(m, 21);
	CHECK(drv->scan(&poll, (const uint8_t *)two + 21, strlen(two) - 21, &m) == BMS_SCAN_FRAME);
}

/* The RT answer src with one change, as the RT answer: handle()'s result. */
static int rt_on(const char *src, const char *from, const char *to, struct bms_poll *poll)
{
	char out[4096];
	struct bms_rx rx = { 0 };
	const char *j = subst(src, from, to, out);
	begin_rt(poll, &rx);
	size_t m = 0;
	CHECK(drv->scan(poll, (const uint8_t *)j, strlen(j), &m) == BMS_SCAN_FRAME);
	CHECK_EQ_INT(m, strlen(j));
	return drv->handle(poll, (const uint8_t *)j, strlen(j));
}

/* FELICITY-01 with one change, as the RT answer: handle()'s result. */
static int rt_with(const char *from, const char *to, struct bms_poll *poll)
{
	return rt_on(FELICITY_01, from, to, poll);
}

static void test_values(void)
{
	struct bms_poll p = { 0 };
	CHECK_EQ_INT(rt_with("\"CommVer\":1", "\"CommVer\":2", &p), BMS_E_HEADER); /* aiobmsble: invalid protocol */
	CHECK_EQ_INT(rt_with("\"CommVer\":1,", "", &p), BMS_E_HEADER);
	CHECK_EQ_INT(rt_with("\"CommVer\":1", "\"CommVer\":null", &p), BMS_E_HEADER);
	CHECK_EQ_INT(rt_with("List\":[[3300,", "List\":[[10001,", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("List\":[[3300,", "List\":[[-1,", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("List\":[[3300,", "List\":[[\"3300\",", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("[[52750,", "[[200001,", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("[[52750,", "[[52.75,", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("[[52750,", "[[12345678901,", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("[[52750,", "[[null,", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("[[52750,", "[[65535,", &p), BMS_E_RANGE); /* this pack's slot without a value */
	CHECK_EQ_INT(rt_with("[[52750,65535]", "[[]", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("[[52750,65535],[-1,-1]]", "[[52750,65535]]", &p), BMS_E_RANGE); /* no current row */
	CHECK_EQ_INT(rt_with("[-1,-1]]", "[-20001,-1]]", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("[-1,-1]]", "[65535,-1]]", &p), BMS_E_RANGE);
	/* no BattList, Batt alone (the bank's): refused, not taken as the pack's */
	CHECK_EQ_INT(rt_with("\"BattList\"", "\"BattLost\"", &p), BMS_E_SHORT);
	CHECK_EQ_INT(rt_on(FELICITY_04, "\"BattList\"", "\"BattLost\"", &p), BMS_E_SHORT);
	/* nor without Batt: RT all the same (not another answer) */
	CHECK_EQ_INT(rt_with("\"Batt\":[[52800],[-1],[null]],", "", &p), BMS_OK);
	check_01(&p.snap, false);
	/* the bank's values changed: the pack's read the same */
	CHECK_EQ_INT(rt_on(FELICITY_04, "\"Batt\":[[53500],[19],", "\"Batt\":[[99999],[-1999],", &p), BMS_OK);
	check_04(&p.snap, false);
	/* a bank of three: a slot more, this pack's at 0 */
	CHECK_EQ_INT(rt_on(FELICITY_04, "[[53530,65535],[9,-1]]", "[[53530,65535,65535],[9,-1,-1]]", &p), BMS_OK);
	check_04(&p.snap, false);
	CHECK_EQ_INT(rt_with("[[3296,3296", "[[6000,3296", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("[[3296,3296", "[[-3296,3296", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("\"BBfault\":0", "\"BBfault\":65536", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("\"BBwarn\":0", "\"BBwarn\":-1", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("1000,300000]],\"BatcelList", "1000,10000001]],\"BatcelList", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("\"BatcelList\"", "\"BatcelLost\"", &p), BMS_E_SHORT);
	CHECK_EQ_INT(rt_with("\"BatsocList\"", "\"BatsocLost\"", &p), BMS_E_SHORT);
	CHECK_EQ_INT(rt_with("\"BatcelList\":[[", "\"BatcelList\":[3,[", &p), BMS_E_RANGE);
	CHECK_EQ_INT(rt_with("\"BatcelList\":[[", "\"BatcelList\":\"x\",\"y\":[[", &p), BMS_E_RANGE);
	/* 33 cells: more than any pack has */
	char cells[400] = "[[";
	for (int i = 0; i < 33; i++)
		strcat(cells, i ? ",3300" : "3300");
	CHECK_EQ_INT(rt_with("[[3296,3296,3297,3297,3297,3297,3297,3297,3297,3297,3296,3297,3297,3297,3297,3297]",
			     strcat(cells, "]"), &p), BMS_E_RANGE);
	/* the pack's words BBfault 1, BBwarn 10 -> OTHER, both raw */
	CHECK_EQ_INT(rt_with("\"BBfault\":0,\"BBwarn\":0", "\"BBfault\":1,\"BBwarn\":10", &p), BMS_OK);
	CHECK_EQ_INT(p.snap.alarms, BMS_AL_OTHER);
	CHECK_EQ_INT(p.snap.raw_alarms[0], 1);
	CHECK_EQ_INT(p.snap.raw_alarms[1], 10);
	/* aiobmsble's problem test sets the bank's Bfault 1, Bwarn 10: another
	 * pack's, not this one's (FELICITY-04's source: BBwarn 4 on one pack,
	 * the bank's words the same in both) */
	CHECK_EQ_INT(rt_with("\"Bfault\":0,\"Bwarn\":0", "\"Bfault\":1,\"Bwarn\":10", &p), BMS_OK);
	CHECK_EQ_INT(p.snap.alarms, 0);
	CHECK_EQ_INT(p.snap.raw_alarms[0], 0);
	CHECK_EQ_INT(p.snap.raw_alarms[1], 0);
	CHECK_EQ_INT(rt_on(FELICITY_04, "\"Bwarn\":0", "\"Bwarn\":4", &p), BMS_OK);
	check_04(&p.snap, false);
	CHECK_EQ_INT(rt_on(FELICITY_04, "\"BBwarn\":0", "\"BBwarn\":4", &p), BMS_OK);
	CHECK_EQ_INT(p.snap.alarms, BMS_AL_OTHER);
	CHECK_EQ_INT(p.snap.raw_alarms[1], 4);
	/* without BBfault and BBwarn: no alarms served (not the bank's) */
	CHECK_EQ_INT(rt_with("\"BBfault\":0,\"BBwarn\":0,", "", &p), BMS_OK);
	CHECK(!(p.snap.present & BMS_HAS_ALARMS));
	CHECK_EQ_INT(p.snap.nraw, 0);
	/* a null current: absent, the rest served */
	CHECK_EQ_INT(rt_with("[-1,-1]]", "[null,-1]]", &p), BMS_OK);
	CHECK(!(p.snap.present & BMS_HAS_CURRENT));
	CHECK_EQ_INT(p.snap.state, 0);
	CHECK_EQ_INT(drv->finish(&p), BMS_OK);
	/* no capacity: SOC alone */
	CHECK_EQ_INT(rt_with("[[3300,1000,300000]],\"BatcelList", "[[3300]],\"BatcelList", &p), BMS_OK);
	CHECK_NEAR(p.snap.soc, 33.0, 1e-6);
	CHECK(!(p.snap.present & (BMS_HAS_REMAIN | BMS_HAS_FULL)));
	/* no BtemList: no temperature (Templist is not read) */
	CHECK_EQ_INT(rt_with("\"BtemList\"", "\"BtemLost\"", &p), BMS_OK);
	CHECK(!(p.snap.present & BMS_HAS_TEMPS));
	/* null (and 32767): no sensor, skipped; one beyond -50..150 degC kept
	 * for the gateway's gate: absent, a sensor fault */
	CHECK_EQ_INT(rt_with("[[130,130,130,130,32767", "[[130,1501,null,-125,32767", &p), BMS_OK);
	CHECK_EQ_INT(p.snap.ntemps, 3);
	CHECK_NEAR(p.snap.temp_c[1], 150.1, 1e-4);
	CHECK_NEAR(p.snap.temp_c[2], -12.5, 1e-5);
	CHECK_EQ_INT(bms_sensor_faults(&p.snap, NULL), 1u << 1);
	CHECK(bms_plausible(&p.snap, NULL));
	/* unused cell slots (65535, null) at the end: fewer cells */
	CHECK_EQ_INT(rt_with("3297,3297,3297,3297],[", "3297,3297,65535,null],[", &p), BMS_OK);
	CHECK_EQ_INT(p.snap.ncells, 14);
	CHECK_NEAR(p.snap.current, -0.1, 1e-5);
	/* no cells at all: not a sample */
	CHECK_EQ_INT(rt_with("[[3296,3296,3297,3297,3297,3297,3297,3297,3297,3297,3296,3297,3297,3297,3297,3297]",
			     "[[]", &p), BMS_OK);
	CHECK_EQ_INT(drv->finish(&p), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_polls();
	test_bank_pack();
	test_noise();
	test_truncated();
	test_malformed();
	test_values();
	return check_report();
}
