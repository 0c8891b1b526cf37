/* SPDX-License-Identifier: MIT */
/* tests/unit/test_d_powercore.c - D-powercore DXB / TBA packs over
 * Bluetooth LE (bms/d_powercore.c): the dpowercore rows of
 * tests/fixtures/vectors.tsv (aiobmsble's recorded answers) through whole
 * polls as the gateway runs them (next_request(), the write, sent(), the
 * pack's pages into the kept bytes, scan() + handle()), in every chunking,
 * a pack that sends each page once the last is acknowledged and one that
 * sends them all at once; the unlock from the name (DXB, TBA, unknown);
 * once a connection; every write checked (the unlock, the reads, each
 * page echoed with bit 7).  Broken input: a bad sum, wrong end bytes, a
 * page out of order, repeated or of another frame, a missing
 * acknowledgement of a request, lengths and counts out of range, a
 * refused unlock, stale pages.  Protocol facts: bms/PROTOCOLS.md §69. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const struct bms_driver *const drv = &bms_d_powercore_driver;

/* tests/fixtures/vectors.tsv, family dpowercore */
#define DPOWERCORE_REQ_60 "0c113a030560000000680d0a0000000000000000"
#define DPOWERCORE_REQ_61 "0c113a030561000000690d0a0000000000000000"
#define DPOWERCORE_REQ_62 "0c113a0305620000006a0d0a0000000000000000"
#define DPOWERCORE_REQ_64 "0e113a0305640000c0fe022a0d0a000000000000"
#define DPOWERCORE_01 "12123a050360000a020d00eba07e48ee2d0003ed02220d0a0360000a020d00eba07e48ee2d0003ed"
#define DPOWERCORE_02 "12123a050361000c001200126d600b7e8fdb1820042203910d0a000c001200126d600b7e8fdb1820"
#define DPOWERCORE_03 "12133a050362001d0e0ea50eb10ea40eaf0ea60e1223ad0ea60eaf0ea60ead0ea40eb30ea60ea80a" \
		      "0333a20d0a0eaf0ea60ead0ea40eb30ea60ea80a"
#define DPOWERCORE_04 "12123a050360000a0213000071c5458e3d0002cd02220d0a0360000a0213000071c5458e3d0002cd"
#define DPOWERCORE_05 "12133a050362001d0e0ed70ed60ed60ed50ed50e1223d60ed10ed20ed50ed60ed40ed80ed70edb0d" \
		      "0333080d0a0ed20ed50ed60ed40ed80ed70edb0d"
#define DPOWERCORE_06 "12123a050360000a020d00eba07e48ee2dff04ec02220d0a0360000a020d00eba07e48ee2d0004ec"

#define NAME_DXB "DXB-MockBLEDevice_C0FE"
#define NAME_TBA "TBA-MockBLEDevice_C0FE"

/* ---- a pack: its answers (hex pages) to 0x60, 0x61, 0x62 ---------------- */

struct pack {
	const char *ans[3];
	bool burst;        /* every page at once (else: each once the last is acknowledged) */
	bool no_req_ack;   /* it never acknowledges a request */
	bool tba;          /* never locked */
	const char *unlock_answer; /* hex pages sent after the unlock's acknowledgement */
	/* its state */
	bool refuse;       /* it takes no unlock */
	bool unlocked;
	uint8_t out[8][20];
	int nout, sent;
	uint8_t air[2048]; /* what it sent, not yet read */
	size_t nair;
	int bad_writes;
};

static void air(struct pack *pk, const uint8_t *b, size_t n)
{
	CHECK(pk->nair + n <= sizeof(pk->air));
	if (pk->nair + n <= sizeof(pk->air)) {
		memcpy(pk->air + pk->nair, b, n);
		pk->nair += n;
	}
}

static void pk_send(struct pack *pk)
{
	do
		air(pk, pk->out[pk->sent], 20);
	while (++pk->sent < pk->nout && pk->burst);
}

/* What the pack does with one written page. */
static void pk_write(struct pack *pk, const uint8_t *w, int n)
{
	if (n != 20) {
		pk->bad_writes++;
		return;
	}
	if (w[0] & 0x80) { /* our acknowledgement of its last page */
		int k = pk->burst ? -1 : pk->sent - 1;
		for (int i = 0; pk->burst && i < pk->nout; i++)
			if (memcmp(pk->out[i] + 1, w + 1, 19) == 0 && (pk->out[i][0] | 0x80) == w[0])
				k = i;
		if (k < 0 || k >= pk->nout || (pk->out[k][0] | 0x80) != w[0] || memcmp(pk->out[k] + 1, w + 1, 19)) {
			pk->bad_writes++;
			return;
		}
		if (!pk->burst && pk->sent < pk->nout)
			pk_send(pk);
		return;
	}
	if (!pk->no_req_ack) {
		uint8_t ack[20];
		memcpy(ack, w, 20);
		ack[0] |= 0x80;
		air(pk, ack, 20);
	}
	pk->nout = pk->sent = 0;
	if (w[5] == 0x64) {
		pk->unlocked = !pk->refuse && w[8] == 0xC0 && w[9] == 0xFE;
		if (pk->unlock_answer) {
			uint8_t b[64];
			int m = check_hex(pk->unlock_answer, b, sizeof(b));
			air(pk, b, (size_t)m);
		}
		return;
	}
	if (w[5] < 0x60 || w[5] > 0x62) {
		pk->bad_writes++;
		return;
	}
	int m = check_hex(pk->ans[w[5] - 0x60], &pk->out[0][0], sizeof(pk->out));
	pk->nout = m / 20;
	if (pk->tba || pk->unlocked)
		pk_send(pk);
}

/* ---- the gateway's side of a poll (gateway/poll/poller.c, bus_engine.c) - */

struct taking {
	struct bms_poll *poll;
	int rc;
};

static enum bms_frame_next take(void *ctx, const uint8_t *f, size_t n)
{
	struct taking *t = ctx;
	int rc = drv->handle(t->poll, f, n);
	if (rc == BMS_MORE || rc == BMS_E_UNEXPECTED)
		return BMS_FRAME_MORE;
	t->rc = rc;
	return BMS_FRAME_STOP;
}

struct run {
	int rc;          /* the poll: finish()'s result, or the error that ended it */
	char writes[2048]; /* every write, hex, separated by blanks */
	int last_bad;    /* the last bad answer */
	int tries;       /* failed tries */
};

/* One poll: each step's request written to the pack, what it sends fed in
 * chunks (kept across steps, as keep_rx asks), until handle() ends the step
 * or the pack has nothing more (a timeout: a failed try, retried twice). */
static struct run run_poll(struct bms_poll *poll, struct pack *pk, const size_t *chunks, size_t nch)
{
	struct run r = { 0 };
	struct bms_rx rx;
	bms_rx_clear(&rx);
	size_t c = 0;
	for (int guard = 0; guard < 200; guard++) {
		uint8_t req[64];
		int n = drv->next_request(poll, req, sizeof(req));
		if (n <= 0) {
			r.rc = n == 0 ? drv->finish(poll) : n;
			return r;
		}
		size_t wl = strlen(r.writes);
		for (int i = 0; i < n && wl + 3 < sizeof(r.writes); i++, wl += 2)
			snprintf(r.writes + wl, sizeof(r.writes) - wl, "%02x", req[i]);
		if (wl + 2 < sizeof(r.writes))
			strcat(r.writes, " ");
		pk_write(pk, req, n);
		if (drv->sent(poll)) {
			poll->attempt = 0;
			continue;
		}
		struct taking t = { .poll = poll, .rc = 1 };
		bms_frames(drv, poll, &rx, take, &t, NULL); /* what was kept */
		while (t.rc == 1 && pk->nair) {
			size_t k = chunks[c++ % nch];
			if (k > pk->nair)
				k = pk->nair;
			bms_rx_feed(&rx, pk->air, k);
			memmove(pk->air, pk->air + k, pk->nair - k);
			pk->nair -= k;
			bms_frames(drv, poll, &rx, take, &t, NULL);
		}
		if (t.rc == BMS_OK) {
			poll->attempt = 0;
			continue;
		}
		r.tries++;
		bms_rx_clear(&rx); /* the poller: what was kept belongs to the failed try */
		if (t.rc < 0 && t.rc != 1)
			r.last_bad = t.rc;
		if (poll->attempt >= 2) {
			r.rc = t.rc == 1 ? BMS_E_SHORT : t.rc;
			return r;
		}
		poll->attempt++;
	}
	r.rc = BMS_E_RANGE;
	return r;
}

static void begin(struct bms_poll *poll, const char *name, bool fresh)
{
	uint32_t persist = poll->persist;
	bms_poll_begin(poll, 0, 0, false);
	poll->persist = persist;
	poll->link = BMS_LINK_BLE;
	poll->link_fresh = fresh;
	snprintf(poll->peer_name, sizeof(poll->peer_name), "%s", name);
}

static void pack_init(struct pack *pk, const char *a60, const char *a61, const char *a62)
{
	memset(pk, 0, sizeof(*pk));
	pk->ans[0] = a60;
	pk->ans[1] = a61;
	pk->ans[2] = a62;
}

/* The acknowledgement of the answer's pages (hex): each page with bit 7 of byte 0. */
static void acks_of(const char *ans, char *out, size_t cap)
{
	uint8_t b[160];
	int n = check_hex(ans, b, sizeof(b));
	out[0] = '\0';
	for (int p = 0; p + 20 <= n; p += 20) {
		b[p] |= 0x80;
		size_t l = strlen(out);
		for (int i = 0; i < 20 && l + 3 < cap; i++, l += 2)
			snprintf(out + l, cap - l, "%02x", b[p + i]);
		if (l + 2 < cap)
			strcat(out, " ");
	}
}

static void check_first(const struct bms_snapshot *s)
{
	CHECK_NEAR(s->voltage, 52.5, 1e-4);
	CHECK_NEAR(s->current, 23.5, 1e-4);
	CHECK_NEAR(s->soc, 45, 1e-6);
	CHECK_NEAR(s->remain_ah, 18.67, 1e-4);
	CHECK_EQ_INT((int)s->cycles, 18);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 21.05, 1e-3);
	CHECK_EQ_INT(s->ncells, 14);
	static const uint16_t mv[14] = { 3749, 3761, 3748, 3759, 3750, 3757, 3750,
					 3759, 3750, 3757, 3748, 3763, 3750, 3752 };
	for (int i = 0; i < 14; i++)
		CHECK_EQ_INT(s->cell_mv[i], mv[i]);
	CHECK_EQ_INT((int)s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	uint32_t want = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_CYCLES |
			BMS_HAS_TEMPS | BMS_HAS_CELLS | BMS_HAS_ALARMS;
	CHECK_EQ_INT((int)s->present, (int)want);
	CHECK_EQ_INT((int)(drv->provides & want), (int)want);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "d-powercore");
	CHECK_EQ_INT(drv->protocol_id, 61);
	CHECK(bms_find("d-powercore") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && !drv->listens && !drv->probe && !drv->control);
	CHECK(drv->sent != NULL && drv->keep_rx && drv->ble->auth == NULL);
	CHECK_STR(drv->ble->gatt[0].service, "0000fff0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000fff4-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000fff3-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[1].service == NULL);
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_NAME && strcmp(h[0].prefix, "DXB-") == 0);
	CHECK(h[1].kind == BMS_BLE_NAME && strcmp(h[1].prefix, "TBA-") == 0);
	CHECK(h[2].why == NULL);
}

/* The first write by name: the unlock (DXB: the name's last four hex
 * digits), the first read (TBA), nothing (no unlock from the name). */
static void test_names(void)
{
	static const struct {
		const char *name;
		int rc;
		const char *first;
	} t[] = {
		{ NAME_DXB, 20, DPOWERCORE_REQ_64 },
		{ "DXB-mockbledevice_c0fe", 20, DPOWERCORE_REQ_64 },
		{ NAME_TBA, 20, DPOWERCORE_REQ_60 },
		{ "TBA-", 20, DPOWERCORE_REQ_60 },
		{ "", BMS_E_NAME, NULL },
		{ "invalid", BMS_E_NAME, NULL },
		{ "DXB-12G4", BMS_E_NAME, NULL },
		{ "C0F", BMS_E_NAME, NULL },
		{ "tba-MockBLEDevice_C0FX", BMS_E_NAME, NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct bms_poll poll = { 0 };
		uint8_t req[64], want[20];
		begin(&poll, t[i].name, true);
		int n = drv->next_request(&poll, req, sizeof(req));
		CHECK_EQ_INT(n, t[i].rc);
		if (t[i].first && n == 20) {
			check_hex(t[i].first, want, sizeof(want));
			CHECK(memcmp(req, want, 20) == 0);
		}
		if (n < 0) /* and it says so again: nothing is ever written */
			CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_NAME);
	}
	CHECK(strstr(bms_strerror(BMS_E_NAME), "advertised name") != NULL);
	uint8_t small[19];
	struct bms_poll poll = { 0 };
	begin(&poll, NAME_DXB, true);
	CHECK_EQ_INT(drv->next_request(&poll, small, sizeof(small)), BMS_E_NOSPACE);
}

/* Whole polls on the recorded answers in every chunking, both pacings:
 * the values, and every write (the unlock once a connection). */
static void test_polls(void)
{
	char a1[512], a2[512], a3[512], want[2048];
	acks_of(DPOWERCORE_01, a1, sizeof(a1));
	acks_of(DPOWERCORE_02, a2, sizeof(a2));
	acks_of(DPOWERCORE_03, a3, sizeof(a3));
	snprintf(want, sizeof(want), "%s %s%s %s%s %s", DPOWERCORE_REQ_60, a1, DPOWERCORE_REQ_61, a2,
		 DPOWERCORE_REQ_62, a3);
	for (size_t ch = 1; ch <= 41; ch++) {
		for (int burst = 0; burst < 2; burst++) {
			size_t chunks[2] = { ch, ch == 1 ? 1 : ch - 1 };
			struct pack pk;
			pack_init(&pk, DPOWERCORE_01, DPOWERCORE_02, DPOWERCORE_03);
			pk.burst = burst;
			struct bms_poll poll = { 0 };
			begin(&poll, NAME_DXB, true);
			struct run r = run_poll(&poll, &pk, chunks, 2);
			CHECK_EQ_INT(r.rc, BMS_OK);
			CHECK_EQ_INT(r.tries, 0);
			CHECK_EQ_INT(pk.bad_writes, 0);
			check_first(&poll.snap);
			CHECK(strncmp(r.writes, DPOWERCORE_REQ_64 " ", 41) == 0);
			CHECK_STR(r.writes + 41, want);
			/* the next poll of the connection: no unlock */
			begin(&poll, NAME_DXB, false);
			r = run_poll(&poll, &pk, chunks, 2);
			CHECK_EQ_INT(r.rc, BMS_OK);
			CHECK_STR(r.writes, want);
			check_first(&poll.snap);
			/* a new connection: the pack locked again, the unlock again */
			pk.unlocked = false;
			begin(&poll, NAME_DXB, true);
			r = run_poll(&poll, &pk, chunks, 2);
			CHECK_EQ_INT(r.rc, BMS_OK);
			CHECK(strncmp(r.writes, DPOWERCORE_REQ_64 " ", 41) == 0);
		}
	}
}

/* aiobmsble's other recording (53.1 V, 0 A, other cells), a TBA, the
 * problem code, the current's sign turned, a forced cell count, a pack
 * that acknowledges no request. */
static void test_other_answers(void)
{
	static const size_t one[] = { 7 };
	struct pack pk;
	struct bms_poll poll = { 0 };
	pack_init(&pk, DPOWERCORE_04, DPOWERCORE_02, DPOWERCORE_05);
	pk.tba = true;
	pk.no_req_ack = true;
	begin(&poll, NAME_TBA, true);
	struct run r = run_poll(&poll, &pk, one, 1);
	CHECK_EQ_INT(r.rc, BMS_OK);
	CHECK(strncmp(r.writes, DPOWERCORE_REQ_60, 40) == 0);
	CHECK_NEAR(poll.snap.voltage, 53.1, 1e-4);
	CHECK_NEAR(poll.snap.current, 0, 1e-6);
	CHECK_NEAR(poll.snap.soc, 61, 1e-6);
	CHECK_NEAR(poll.snap.remain_ah, 17.806, 1e-4);
	CHECK_EQ_INT(poll.snap.ncells, 14);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3799);
	CHECK_EQ_INT(poll.snap.cell_mv[13], 3803);

	pack_init(&pk, DPOWERCORE_06, DPOWERCORE_02, DPOWERCORE_03);
	begin(&poll, NAME_DXB, true);
	poll.invert_current = true;
	poll.cells_forced = 12;
	r = run_poll(&poll, &pk, one, 1);
	CHECK_EQ_INT(r.rc, BMS_OK);
	CHECK_EQ_INT((int)poll.snap.alarms, (int)BMS_AL_OTHER);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0xFF);
	CHECK_NEAR(poll.snap.current, -23.5, 1e-4);
	CHECK_EQ_INT(poll.snap.ncells, 12);
}

/* A broken 0x60 answer: the poll fails with rc, nothing of it taken. */
static void broken(const char *a60, int rc, const char *what)
{
	static const size_t odd[] = { 13, 5, 20, 1 };
	struct pack pk;
	struct bms_poll poll = { 0 };
	pack_init(&pk, a60, DPOWERCORE_02, DPOWERCORE_03);
	begin(&poll, NAME_DXB, true);
	struct run r = run_poll(&poll, &pk, odd, 4);
	if (r.rc != rc || r.tries != 3)
		printf("  broken answer: %s: rc %d (%s), %d tries\n", what, r.rc, bms_strerror(r.rc), r.tries);
	CHECK_EQ_INT(r.rc, rc);
	CHECK_EQ_INT(r.tries, 3);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));
}

#define P2_60 "02220d0a0000000000000000000000000000000"
static void test_broken(void)
{
	/* aiobmsble's wrong-sum answers (its MockWrongCRCBleakClient) */
	broken("12123a050360000a0213000071c5458e3d0001ce" P2_60 "0", BMS_E_CHECKSUM, "wrong sum");
	/* the end bytes 0D 0B */
	broken("12123a050360000a020d00eba07e48ee2d0003ed02220d0b00000000000000000000000000000000", BMS_E_HEADER,
	       "end bytes");
	/* page 2 of 3 missing (out of order), page 1 repeated, page 2 of another frame */
	broken("12133a050360000a020d00eba07e48ee2d0003ed03330d0a0000000000000000000000000000000000000000"
	       "000000000000000000000000000000000000",
	       BMS_E_HEADER, "a page missing");
	broken("12123a050360000a020d00eba07e48ee2d0003ed12123a050360000a020d00eba07e48ee2d0003ed", BMS_E_HEADER,
	       "page 1 repeated");
	broken("12123a050360000a020d00eba07e48ee2d0003ed02230d0a00000000000000000000000000000000", BMS_E_HEADER,
	       "a page of 3 after a page of 2");
	/* the length: under the read's fields, and longer than the pages */
	broken("12123a0503600009020d00eba07e48ee2d0003ed02220d0a00000000000000000000000000000000", BMS_E_RANGE,
	       "length 9");
	broken("12123a050360000c020d00eba07e48ee2d0003ed02220d0a00000000000000000000000000000000", BMS_E_SHORT,
	       "length 12 in 20 bytes");
	broken("12123a0503600008020d00eba07e48ee2d0003ed02220d0a00000000000000000000000000000000", BMS_E_RANGE,
	       "length 8");
	broken("12123a0503600100020d00eba07e48ee2d0003ed02220d0a00000000000000000000000000000000", BMS_E_RANGE,
	       "length 256");
	/* a page with more bytes than its frame */
	broken("12123a050360000a020d00eba07e48ee2d0003ed04220d0a0d0a000000000000000000000000000000", BMS_E_SHORT,
	       "bytes beyond the frame");
	/* SOC 101 (sum fixed) */
	broken("12123a050360000a020d00eba07e48ee6500042502220d0a00000000000000000000000000000000", BMS_E_RANGE,
	       "SOC 101");
	/* the head: 3A 05 04 */
	broken("12123a050460000a020d00eba07e48ee2d0003ed02220d0a00000000000000000000000000000000", BMS_E_HEADER,
	       "address bytes");
}

/* The cell read broken: 0 cells, 33 cells, 15 cells in 14 cells' bytes. */
static void broken_cells(const char *a62, int rc)
{
	static const size_t all[] = { 1000 };
	struct pack pk;
	struct bms_poll poll = { 0 };
	pack_init(&pk, DPOWERCORE_01, DPOWERCORE_02, a62);
	begin(&poll, NAME_DXB, true);
	struct run r = run_poll(&poll, &pk, all, 1);
	CHECK_EQ_INT(r.rc, rc);
	CHECK(!(poll.snap.present & BMS_HAS_CELLS));
}

static void test_broken_cells(void)
{
	/* the count byte changed, the sum with it (a2 -> a2 - 14 + n) */
	broken_cells("12133a050362001d000ea50eb10ea40eaf0ea60e1223ad0ea60eaf0ea60ead0ea40eb30ea60ea80a"
		     "0333940d0a0eaf0ea60ead0ea40eb30ea60ea80a",
		     BMS_E_RANGE);
	broken_cells("12133a050362001d210ea50eb10ea40eaf0ea60e1223ad0ea60eaf0ea60ead0ea40eb30ea60ea80a"
		     "0333b50d0a0eaf0ea60ead0ea40eb30ea60ea80a",
		     BMS_E_RANGE);
	broken_cells("12133a050362001d0f0ea50eb10ea40eaf0ea60e1223ad0ea60eaf0ea60ead0ea40eb30ea60ea80a"
		     "0333a30d0a0eaf0ea60ead0ea40eb30ea60ea80a",
		     BMS_E_SHORT);
}

/* Stale pages before the answer (a continuation, another read's page 1)
 * are passed over; noise between pages is skipped; a refused unlock fails
 * the poll; a locked pack (a wrong unlock) answers nothing. */
static void test_stale_and_refused(void)
{
	static const size_t ch[] = { 3, 17 };
	struct pack pk;
	struct bms_poll poll = { 0 };
	pack_init(&pk, DPOWERCORE_01, DPOWERCORE_02, DPOWERCORE_03);
	/* before the unlock's acknowledgement: a stray continuation page, a
	 * page 1 of another read's answer, garbage */
	pk.unlock_answer = "02220d0a0000000000000000000000000000000012123a050361000c001200126d600b7e8fdb1820ff00";
	begin(&poll, NAME_DXB, true);
	struct run r = run_poll(&poll, &pk, ch, 2);
	CHECK_EQ_INT(r.rc, BMS_OK);
	CHECK_EQ_INT(pk.bad_writes, 0);
	check_first(&poll.snap);

	pack_init(&pk, DPOWERCORE_01, DPOWERCORE_02, DPOWERCORE_03);
	pk.unlock_answer = "12113a050333000000410d0a0000000000000000";
	pk.refuse = true;
	begin(&poll, NAME_DXB, true);
	r = run_poll(&poll, &pk, ch, 2);
	CHECK_EQ_INT(r.last_bad, BMS_E_REFUSED); /* a failed try of the read, the others silent */
	CHECK(r.tries == 3 && r.rc != BMS_OK && !(poll.snap.present & BMS_HAS_VOLTAGE));

	pack_init(&pk, DPOWERCORE_01, DPOWERCORE_02, DPOWERCORE_03);
	begin(&poll, "DXB-MockBLEDevice_1234", true);
	r = run_poll(&poll, &pk, ch, 2);
	CHECK_EQ_INT(r.rc, BMS_E_SHORT); /* timeouts: nothing came */
	CHECK(!pk.unlocked && !(poll.snap.present & BMS_HAS_VOLTAGE));
}

/* The framer: 20-byte pages with a plausible head; a byte at a time
 * before anything else; an acknowledgement page taken (and passed over by
 * handle()). */
static void test_scan(void)
{
	struct bms_poll poll = { 0 };
	uint8_t b[40] = { 0x12, 0x12 };
	size_t n = 0;
	CHECK_EQ_INT(drv->scan(&poll, b, 0, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, b, 1, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, b, 19, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, b, 20, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT((int)n, 20);
	static const uint8_t bad[][2] = { { 0x00, 0x11 }, { 0x13, 0x11 }, { 0x12, 0x00 }, { 0x12, 0x21 },
					  { 0x12, 0x01 }, { 0x80, 0x11 }, { 0x95, 0x11 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(b, bad[i], 2);
		CHECK_EQ_INT(drv->scan(&poll, b, 20, &n), BMS_SCAN_SKIP);
		CHECK_EQ_INT((int)n, 1);
	}
	b[0] = 0x8c;
	b[1] = 0x11;
	CHECK_EQ_INT(drv->scan(&poll, b, 20, &n), BMS_SCAN_FRAME);
	begin(&poll, NAME_TBA, true);
	uint8_t req[64];
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 20);
	CHECK(!drv->sent(&poll));
	CHECK_EQ_INT(drv->handle(&poll, b, 20), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->handle(&poll, b, 19), BMS_E_SHORT);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_names();
	test_polls();
	test_other_answers();
	test_broken();
	test_broken_cells();
	test_stale_and_refused();
	test_scan();
	return check_report();
}
