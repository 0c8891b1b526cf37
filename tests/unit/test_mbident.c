/* SPDX-License-Identifier: MIT */
/* tests/unit/test_mbident.c - FC 0x2B / MEI 0x0E and FC 0x11
 * (gateway/modbus/mbident.c): exact response bytes of every Read Device ID
 * code, individual access, restart at object 0, More Follows with long
 * objects followed to the end, every exception, Report Server ID. */
#include <stdio.h>
#include <string.h>

#include "../../gateway/modbus/mbident.h"
#include "check.h"

static const struct mbid_identity pack = {
	.product_code = "daly",
	.revision = "0.1.0",
	.product_name = "bmsgw BMS gateway",
	.model_name = "Daly",
	.app_name = "rack1",
	.server_id = 3,
	.running = true,
};

/* Answer the request given in hex; the response must be the hex `want`
 * (NULL: an exception, compared with `exc`). */
static void expect(const struct mbid_identity *id, const char *req_hex, const char *want, int exc, int line)
{
	uint8_t req[16], out[MBID_PDU_MAX + 8], w[MBID_PDU_MAX + 8];
	int n = check_hex(req_hex, req, sizeof(req));
	memset(out, 0xEE, sizeof(out));
	int rc = mbid_reply(id, req, (size_t)n, out, MBID_PDU_MAX);
	if (!want) {
		if (rc == -exc)
			check_passed++;
		else {
			check_failed++;
			fprintf(stderr, "FAIL line %d: %s -> %d, want exception %d\n", line, req_hex, rc, exc);
		}
		return;
	}
	int wn = check_hex(want, w, sizeof(w));
	if (rc == wn && memcmp(out, w, (size_t)wn) == 0 && out[rc] == 0xEE)
		check_passed++;
	else {
		check_failed++;
		fprintf(stderr, "FAIL line %d: %s -> %d bytes:", line, req_hex, rc);
		for (int i = 0; i < rc && i < MBID_PDU_MAX; i++)
			fprintf(stderr, " %02x", out[i]);
		fprintf(stderr, "\n");
	}
}
#define EXPECT(id, req, want) expect(id, req, want, 0, __LINE__)
#define EXPECT_EXC(id, req, exc) expect(id, req, NULL, exc, __LINE__)

/* object bytes: id, length, "bmsgw" ... */
#define O0 "00 05 626d736777"
#define O1 "01 04 64616c79"
#define O2 "02 05 302e312e30"
#define O3 "03 13 68747470733a2f2f6578616d706c652e6f7267" /* https://example.org */
#define O4 "04 11 626d73677720424d532067617465776179"
#define O5 "05 04 44616c79"
#define O6 "06 05 7261636b31"

static void test_streams(void)
{
	/* basic: objects 0-2 */
	EXPECT(&pack, "2b 0e 01 00", "2b 0e 01 82 00 00 03" O0 O1 O2);
	/* regular: 0-6 but the absent VendorUrl */
	EXPECT(&pack, "2b 0e 02 00", "2b 0e 02 82 00 00 06" O0 O1 O2 O4 O5 O6);
	/* extended: answered at the conformity level (regular), code echoed */
	EXPECT(&pack, "2b 0e 03 00", "2b 0e 03 82 00 00 06" O0 O1 O2 O4 O5 O6);
	/* a stream from a later object */
	EXPECT(&pack, "2b 0e 02 04", "2b 0e 02 82 00 00 03" O4 O5 O6);
	EXPECT(&pack, "2b 0e 01 02", "2b 0e 01 82 00 00 01" O2);
	EXPECT(&pack, "2b 0e 02 06", "2b 0e 02 82 00 00 01" O6);
	/* from an object the stream does not have: from object 0 */
	EXPECT(&pack, "2b 0e 02 03", "2b 0e 02 82 00 00 06" O0 O1 O2 O4 O5 O6);
	EXPECT(&pack, "2b 0e 01 04", "2b 0e 01 82 00 00 03" O0 O1 O2);
	EXPECT(&pack, "2b 0e 02 07", "2b 0e 02 82 00 00 06" O0 O1 O2 O4 O5 O6);
	EXPECT(&pack, "2b 0e 03 80", "2b 0e 03 82 00 00 06" O0 O1 O2 O4 O5 O6);
	EXPECT(&pack, "2b 0e 02 ff", "2b 0e 02 82 00 00 06" O0 O1 O2 O4 O5 O6);
	/* with a VendorUrl */
	struct mbid_identity u = pack;
	u.vendor_url = "https://example.org";
	EXPECT(&u, "2b 0e 02 00", "2b 0e 02 82 00 00 07" O0 O1 O2 O3 O4 O5 O6);
	EXPECT(&u, "2b 0e 02 03", "2b 0e 02 82 00 00 04" O3 O4 O5 O6);
	EXPECT(&u, "2b 0e 04 03", "2b 0e 04 82 00 00 01" O3);
	/* NULL strings read as empty objects */
	struct mbid_identity e = { .server_id = 1 };
	EXPECT(&e, "2b 0e 01 00", "2b 0e 01 82 00 00 03" O0 "01 00 02 00");
	EXPECT(&e, "2b 0e 02 00", "2b 0e 02 82 00 00 06" O0 "01 00 02 00 04 00 05 00 06 00");
}

static void test_individual(void)
{
	EXPECT(&pack, "2b 0e 04 00", "2b 0e 04 82 00 00 01" O0);
	EXPECT(&pack, "2b 0e 04 01", "2b 0e 04 82 00 00 01" O1);
	EXPECT(&pack, "2b 0e 04 02", "2b 0e 04 82 00 00 01" O2);
	EXPECT(&pack, "2b 0e 04 04", "2b 0e 04 82 00 00 01" O4);
	EXPECT(&pack, "2b 0e 04 05", "2b 0e 04 82 00 00 01" O5);
	EXPECT(&pack, "2b 0e 04 06", "2b 0e 04 82 00 00 01" O6);
	/* objects the unit does not have: Illegal Data Address */
	EXPECT_EXC(&pack, "2b 0e 04 03", 0x02);
	EXPECT_EXC(&pack, "2b 0e 04 07", 0x02);
	EXPECT_EXC(&pack, "2b 0e 04 80", 0x02);
	EXPECT_EXC(&pack, "2b 0e 04 ff", 0x02);
}

/* objects 0x80.. (what the BMS says about itself): extended identification */
static void test_extended(void)
{
	struct mbid_identity b = pack;
	b.ext[MBID_EXT_MODEL] = "P16S100A-1812-1.00";
	b.ext[MBID_EXT_SERIAL] = "1812101380309D";
	b.ext[MBID_EXT_PACK_SERIAL] = ""; /* empty: absent */
#define X81 "81 12 50313653313030412d313831322d312e3030"
#define X83 "83 0e 3138313231303133383033303944"
	/* basic and regular streams as before, at conformity 0x83 */
	EXPECT(&b, "2b 0e 01 00", "2b 0e 01 83 00 00 03" O0 O1 O2);
	EXPECT(&b, "2b 0e 02 00", "2b 0e 02 83 00 00 06" O0 O1 O2 O4 O5 O6);
	/* extended: then the extended objects the unit has */
	EXPECT(&b, "2b 0e 03 00", "2b 0e 03 83 00 00 08" O0 O1 O2 O4 O5 O6 X81 X83);
	EXPECT(&b, "2b 0e 03 06", "2b 0e 03 83 00 00 03" O6 X81 X83);
	EXPECT(&b, "2b 0e 03 81", "2b 0e 03 83 00 00 02" X81 X83);
	EXPECT(&b, "2b 0e 03 83", "2b 0e 03 83 00 00 01" X83);
	/* from an object it does not have: from 0 */
	EXPECT(&b, "2b 0e 03 80", "2b 0e 03 83 00 00 08" O0 O1 O2 O4 O5 O6 X81 X83);
	EXPECT(&b, "2b 0e 03 84", "2b 0e 03 83 00 00 08" O0 O1 O2 O4 O5 O6 X81 X83);
	EXPECT(&b, "2b 0e 03 07", "2b 0e 03 83 00 00 08" O0 O1 O2 O4 O5 O6 X81 X83);
	/* a regular stream never reaches them */
	EXPECT(&b, "2b 0e 02 81", "2b 0e 02 83 00 00 06" O0 O1 O2 O4 O5 O6);
	/* individual access */
	EXPECT(&b, "2b 0e 04 81", "2b 0e 04 83 00 00 01" X81);
	EXPECT(&b, "2b 0e 04 83", "2b 0e 04 83 00 00 01" X83);
	EXPECT_EXC(&b, "2b 0e 04 80", 0x02);
	EXPECT_EXC(&b, "2b 0e 04 84", 0x02);
	EXPECT_EXC(&b, "2b 0e 04 85", 0x02);
	/* long ones: More Follows into the extended objects */
	char longv[MBID_EXT_COUNT][120];
	for (int i = 0; i < MBID_EXT_COUNT; i++) {
		memset(longv[i], 'a' + i, sizeof(longv[i]) - 1);
		longv[i][sizeof(longv[i]) - 1] = 0;
		b.ext[i] = longv[i];
	}
	uint8_t req[4] = { 0x2B, 0x0E, 0x03, 0x00 }, out[MBID_PDU_MAX];
	int seen = 0, guard = 0;
	do {
		int n = mbid_reply(&b, req, 4, out, sizeof(out));
		CHECK(n >= 7 && n <= MBID_PDU_MAX);
		for (int k = 0, pos = 7; k < out[6] && pos + 1 < n; k++, pos += 2 + out[pos + 1])
			seen += out[pos] >= 0x80 && out[pos + 1] == 119;
		req[3] = out[5];
		if (out[4] != 0xFF)
			break;
	} while (++guard < 10);
	CHECK_EQ_INT(seen, MBID_EXT_COUNT);
#undef X81
#undef X83
}

static void test_exceptions(void)
{
	/* Read Device ID codes other than 1-4: Illegal Data Value */
	EXPECT_EXC(&pack, "2b 0e 00 00", 0x03);
	EXPECT_EXC(&pack, "2b 0e 05 00", 0x03);
	EXPECT_EXC(&pack, "2b 0e ff 00", 0x03);
	/* another MEI type (0x0D CANopen): not served */
	EXPECT_EXC(&pack, "2b 0d 01 00", 0x01);
	EXPECT_EXC(&pack, "2b 00", 0x01);
	/* wrong lengths */
	EXPECT_EXC(&pack, "2b", 0x03);
	EXPECT_EXC(&pack, "2b 0e", 0x03);
	EXPECT_EXC(&pack, "2b 0e 01", 0x03);
	EXPECT_EXC(&pack, "2b 0e 01 00 00", 0x03);
	EXPECT_EXC(&pack, "11 00", 0x03);
	/* not ours */
	EXPECT_EXC(&pack, "03 00 00 00 01", 0x01);
	EXPECT_EXC(&pack, "", 0x01);
	CHECK(mbid_handles(0x2B));
	CHECK(mbid_handles(0x11));
	CHECK(!mbid_handles(0x03));
	CHECK(!mbid_handles(0xAB));
	/* a buffer smaller than a PDU */
	uint8_t req[4] = { 0x2B, 0x0E, 0x01, 0x00 }, out[MBID_PDU_MAX];
	CHECK_EQ_INT(mbid_reply(&pack, req, 4, out, MBID_PDU_MAX - 1), -4);
	CHECK_EQ_INT(mbid_reply(&pack, req, 4, out, MBID_PDU_MAX), 7 + 7 + 6 + 7);
}

/* Read a whole stream request after request as a client does, following
 * Next Object Id; every PDU within 253 bytes, every object whole. */
static int read_stream(const struct mbid_identity *id, uint8_t code, char objs[7][300], int *responses)
{
	uint8_t next = 0;
	int got = 0;
	*responses = 0;
	for (int guard = 0; guard < 10; guard++) {
		uint8_t req[4] = { 0x2B, 0x0E, code, next }, out[MBID_PDU_MAX + 1];
		int n = mbid_reply(id, req, 4, out, sizeof(out));
		(*responses)++;
		CHECK(n >= 7 && n <= MBID_PDU_MAX);
		if (n < 7)
			return -1;
		CHECK_EQ_INT(out[3], 0x82);
		int pos = 7;
		for (int k = 0; k < out[6]; k++) {
			CHECK(pos + 2 <= n && pos + 2 + out[pos + 1] <= n);
			if (out[pos] < 7) {
				memcpy(objs[out[pos]], out + pos + 2, out[pos + 1]);
				objs[out[pos]][out[pos + 1]] = 0;
			}
			got++;
			pos += 2 + out[pos + 1];
		}
		CHECK_EQ_INT(pos, n);
		if (out[4] == 0x00) {
			CHECK_EQ_INT(out[5], 0);
			return got;
		}
		CHECK_EQ_INT(out[4], 0xFF);
		CHECK(out[5] > next); /* progress */
		next = out[5];
	}
	CHECK(!"the stream never ended");
	return got;
}

static void test_more_follows(void)
{
	char p[201], m[201], big[301], objs[7][300];
	memset(p, 'P', 200);
	p[200] = 0;
	memset(m, 'M', 200);
	m[200] = 0;
	memset(big, 'B', 300);
	big[300] = 0;
	struct mbid_identity id = pack;
	id.product_name = p;
	id.model_name = m;
	id.app_name = "abcdefghijklmnopqrstuvwxyz01234";
	/* first answer: 0, 1, 2, 4 (7 + 7 + 6 + 7 + 202 = 229); object 5
	 * (202 more) does not fit */
	uint8_t req[4] = { 0x2B, 0x0E, 0x02, 0x00 }, out[MBID_PDU_MAX];
	CHECK_EQ_INT(mbid_reply(&id, req, 4, out, sizeof(out)), 229);
	CHECK_EQ_INT(out[4], 0xFF);
	CHECK_EQ_INT(out[5], 5);
	CHECK_EQ_INT(out[6], 4);
	/* the rest: 5 and 6 */
	req[3] = 5;
	CHECK_EQ_INT(mbid_reply(&id, req, 4, out, sizeof(out)), 7 + 202 + 2 + 31);
	CHECK_EQ_INT(out[4], 0x00);
	CHECK_EQ_INT(out[5], 0x00);
	CHECK_EQ_INT(out[6], 2);
	/* the whole stream as a client reads it */
	int responses;
	memset(objs, 0, sizeof(objs));
	CHECK_EQ_INT(read_stream(&id, 2, objs, &responses), 6);
	CHECK_EQ_INT(responses, 2);
	CHECK_STR(objs[4], p);
	CHECK_STR(objs[5], m);
	CHECK_STR(objs[6], "abcdefghijklmnopqrstuvwxyz01234");
	/* every object longer than a PDU can carry: cut to 244, one a PDU */
	id.product_code = big;
	id.revision = big;
	id.product_name = big;
	id.model_name = big;
	id.app_name = big;
	id.vendor_url = big;
	memset(objs, 0, sizeof(objs));
	CHECK_EQ_INT(read_stream(&id, 2, objs, &responses), 7);
	CHECK_EQ_INT(responses, 7);
	CHECK_EQ_INT(strlen(objs[6]), MBID_OBJ_MAX);
	CHECK_EQ_INT(MBID_OBJ_MAX, 244);
	CHECK_STR(objs[0], "bmsgw");
	memset(objs, 0, sizeof(objs));
	CHECK_EQ_INT(read_stream(&id, 1, objs, &responses), 3);
	CHECK_EQ_INT(responses, 3);
	req[2] = 4;
	req[3] = 6;
	CHECK_EQ_INT(mbid_reply(&id, req, 4, out, sizeof(out)), MBID_PDU_MAX);
	CHECK_EQ_INT(out[8], 244);
}

static void test_server_id(void)
{
	/* "bmsgw 0.1.0 rack1 daly" = 22 bytes */
	EXPECT(&pack, "11", "11 18 03 ff 626d73677720302e312e30207261636b31206461 6c79");
	struct mbid_identity s = pack;
	s.running = false;
	s.server_id = 100;
	s.app_name = "bank";
	s.product_code = "bank";
	EXPECT(&s, "11", "11 17 64 00 626d73677720302e312e302062616e6b2062616e6b");
	/* too long a text is cut to the PDU */
	char big[301];
	memset(big, 'x', 300);
	big[300] = 0;
	s.app_name = big;
	uint8_t req[1] = { 0x11 }, out[MBID_PDU_MAX];
	CHECK_EQ_INT(mbid_reply(&s, req, 1, out, sizeof(out)), MBID_PDU_MAX);
	CHECK_EQ_INT(out[1], MBID_PDU_MAX - 2);
	CHECK_EQ_INT(out[MBID_PDU_MAX - 1], 'x');
}

int main(void)
{
	test_streams();
	test_individual();
	test_extended();
	test_exceptions();
	test_more_follows();
	test_server_id();
	return check_report();
}
