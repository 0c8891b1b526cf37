/* SPDX-License-Identifier: MIT */
/* tests/unit/test_doerr.c - Doerr Power over Bluetooth LE (bms/doerr.c,
 * bms/base/ejframe.c): the doerr rows of tests/fixtures/vectors.tsv
 * (aiobmsble's answer of a 4S pack and the read) through scan() + handle()
 * in whole polls as the gateway runs them, in every chunking, with noise,
 * the module's AT and the read echoed before it; broken copies made here
 * (the check, a digit, the length field, the '~', truncated, another
 * command, a request's shape), values out of range, forced cells; the
 * current's direction bit.  Protocol facts: bms/PROTOCOLS.md §79. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_doerr_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family ejbt (the ASCII as hex) */
#define DOERR_REQ "3a3031353135303030304546457e"
#define DOERR_01 \
	"3a30313534303130304543303030313032303330343035303630443435304434383044343330443431303030303030303030" \
	"3030303030303030303030303030303030303030303030303030303030303030303030303030304630303030303030343634" \
	"3634363436313045453030303030303030374646464646464633353131303030373034303030313633303030323439463030" \
	"3030323632423730303032343946303030303130354630303030363030303130303030303030303030303030303030303030" \
	"30303030303030303030303030303030303030303030303030303030303030303039467e"

/* The answer's text (NULs and all) and its decoded bytes. */
static uint8_t text[300];
static size_t ntext;
static uint8_t dec[128];
static size_t ndec;

static void load(void)
{
	ntext = (size_t)drive_hex(DOERR_01, text, (int)sizeof(text));
	size_t h = 0;
	for (size_t i = 1; i < ntext && text[i] != '~'; i++) {
		unsigned v;
		if (text[i] == 0)
			continue;
		sscanf((const char *)text + i, "%1x", &v);
		dec[h / 2] = (uint8_t)(h & 1 ? dec[h / 2] << 4 | v : v);
		h++;
	}
	ndec = h / 2;
}

/* A frame of the decoded bytes d[0..n) (the check made again unless
 * keep_check), without padding: its text into t, its length. */
static size_t frame_of(const uint8_t *d, size_t n, bool keep_check, char *t)
{
	uint8_t b[128];
	memcpy(b, d, n);
	if (!keep_check) {
		unsigned s = 0;
		for (size_t i = 1; i + 1 < n; i++)
			s += b[i];
		b[n - 1] = (uint8_t)((s & 0xFF) ^ 0xFF);
	}
	t[0] = ':';
	for (size_t i = 0; i < n; i++)
		snprintf(t + 1 + 2 * i, 3, "%02X", b[i]);
	t[1 + 2 * n] = '~';
	t[2 + 2 * n] = '\0';
	return 2 + 2 * n;
}

/* The answer with decoded byte i set to v (the check made again). */
static const char *edited(int i, uint8_t v)
{
	static char t[300];
	uint8_t d[128];
	memcpy(d, dec, ndec);
	if (i >= 0)
		d[i] = v;
	frame_of(d, ndec, false, t);
	return t;
}

static int handle_text(const char *t, int step)
{
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = step;
	return drv->handle(&poll, (const uint8_t *)t, strlen(t));
}

static void check_01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[4] = { 3397, 3400, 3395, 3393 };
	(void)inv;
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.585, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 99.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 1);
	CHECK_NEAR(s->full_ah, 150.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 4);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(s->temp_c[i], 30.0, 1e-6);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES | BMS_HAS_FULL |
					 BMS_HAS_CELLS | BMS_HAS_TEMPS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "doerr");
	CHECK_EQ_INT(drv->protocol_id, 69);
	CHECK(bms_find("doerr") == drv);
	drive_check_ble16("fff0", "fff6", "fff6"); /* one characteristic written and notified */
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_SERVICE_DATA && h[0].value == 0xFFE1u); /* service data FFE1, no service */
	CHECK_STR(h[0].prefix, "BT-Battery");
	CHECK(h[1].why == NULL);
	CHECK(drv->ble->auth == NULL && drv->writer == NULL);
}

/* The read, then the answer (NULs inside and after it), in every chunking,
 * inverted too; noise, the module's AT and the read echoed before it. */
static void test_polls(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			CHECK(drive_req_is(&poll, DOERR_REQ));
			const char *a[] = { "00" "7e" "41540d0a" DOERR_REQ DOERR_01 };
			CHECK_EQ_INT(drive_poll_hex(&poll, &rx, a, 1, &drive_chunkings[k], 14), BMS_OK);
			check_01(&poll.snap, inv);
		}
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	drive_request_ends(&poll, 13, 1);
	/* the module's AT inside the frame, a NUL anywhere in it: the same frame */
	char t[400];
	snprintf(t, sizeof(t), "%.60sAT\r\n%s", edited(-1, 0), edited(-1, 0) + 60);
	CHECK_EQ_INT(handle_text(t, 0), BMS_OK);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	char t[400];
	/* the check wrong (the sum of the characters, chins's rule, is not it) */
	uint8_t d[128];
	memcpy(d, dec, ndec);
	d[ndec - 1] ^= 0x01;
	frame_of(d, ndec, true, t);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = FEED_TEXT(&poll, &rx, t, chunks_big);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_CHECKSUM);
	/* a digit that is none: skipped up to it, nothing decoded */
	snprintf(t, sizeof(t), "%s", edited(-1, 0));
	t[41] = 'G';
	bms_rx_clear(&rx);
	r = FEED_TEXT(&poll, &rx, t, chunks_big);
	CHECK_EQ_INT(r.frames, 0);
	/* the length field: not the frame's (one character fewer), odd, too short */
	snprintf(t, sizeof(t), "%.100s%s", edited(-1, 0), edited(-1, 0) + 102);
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_CHECKSUM);
	snprintf(t, sizeof(t), "%s", edited(4, 0xED));
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_CHECKSUM);
	snprintf(t, sizeof(t), "%s", edited(4, 0x0C));
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_CHECKSUM);
	/* no '~' where the length puts it */
	snprintf(t, sizeof(t), "%s", edited(-1, 0));
	t[strlen(t) - 1] = '!';
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_CHECKSUM);
	/* truncated: no frame, the poll does not complete */
	bms_rx_clear(&rx);
	snprintf(t, sizeof(t), "%.200s", edited(-1, 0));
	r = FEED_TEXT(&poll, &rx, t, chunks_one);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* another command; a request's shape (no data) is the read echoed */
	CHECK_EQ_INT(handle_text(edited(1, 0x55), 0), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_text(":015150000EFE~", 0), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_text(edited(-1, 0), 1), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_text(":0154~", 0), BMS_E_HEADER);
	/* values: SOC 101, 0 V, a current beyond 2000 A */
	CHECK_EQ_INT(handle_text(edited(69, 101), 0), BMS_E_RANGE);
	memcpy(d, dec, ndec);
	d[62] = d[63] = 0;
	frame_of(d, ndec, false, t);
	CHECK_EQ_INT(handle_text(t, 0), BMS_E_RANGE);
	/* the current: bit 31 charging, the low 16 bits mA, bits 16..30 carry nothing */
	static const struct {
		uint8_t b[4];
		float a;
	} cur[] = { { { 0x80, 0x00, 0x05, 0xDC }, 1.5f }, { { 0x00, 0x00, 0x05, 0xDC }, -1.5f },
		    { { 0x7F, 0xFF, 0x05, 0xDC }, -1.5f }, { { 0xFF, 0xFF, 0xFF, 0xFF }, 65.535f },
		    { { 0x00, 0x00, 0xFF, 0xFF }, -65.535f } };
	for (size_t i = 0; i < DRIVE_NCH(cur); i++) {
		memcpy(d, dec, ndec);
		memcpy(d + 54, cur[i].b, 4);
		frame_of(d, ndec, false, t);
		for (int inv = 0; inv < 2; inv++) {
			bms_poll_begin(&poll, 0, 0, inv);
			CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)t, strlen(t)), BMS_OK);
			CHECK_NEAR(poll.snap.current, inv ? -cur[i].a : cur[i].a, 1e-5);
		}
	}
	/* forced cells */
	bms_poll_begin(&poll, 0, 3, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)edited(-1, 0), strlen(edited(-1, 0))), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 0);
}

/* --ble-scan: a BT-Battery with service data FFE1 is doerr */
static void test_hint(void)
{
	CHECK(drv->ble->hints[0].prefix != NULL);
	CHECK(strncmp("BT-Battery-D01", drv->ble->hints[0].prefix, strlen(drv->ble->hints[0].prefix)) == 0);
}

int main(void)
{
	load();
	test_table();
	test_polls();
	test_broken();
	test_hint();
	return check_report();
}
