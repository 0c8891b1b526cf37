/* SPDX-License-Identifier: MIT */
/* tests/unit/test_vedirect.c - Victron VE.Direct text driver: captured and
 * documented-style text blocks through scan() + handle() as the gateway
 * feeds a listen-only driver, whole polls through finish(), HEX frames in
 * the stream, and broken input (bad checksum, truncated, garbage, noise). */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../bms/vedirect.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_vedirect_driver;

#include "drive.h"

/* A SmartShunt 500A/50mV stream as captured (quoted in the tests of
 * jblance/mpp-solar, protocols/ved): the history block, then the run-time
 * block, each with its own checksum byte (0x1a, 'K'). */
#define SHUNT_H "\r\nH1\t-32914\r\nH2\t0\r\nH3\t0\r\nH4\t0\r\nH5\t0\r\nH6\t-35652\r\nH7\t12041" \
	"\r\nH8\t14282\r\nH9\t0\r\nH10\t0\r\nH11\t0\r\nH12\t0\r\nH15\t-22\r\nH16\t0\r\nH17\t46" \
	"\r\nH18\t48\r\nChecksum\t\x1a"
#define SHUNT_MAIN "\r\nPID\t0xA389\r\nV\t12868\r\nVS\t-12\r\nI\t0\r\nP\t0\r\nCE\t0\r\nSOC\t1000" \
	"\r\nTTG\t-1\r\nAlarm\tOFF\r\nAR\t0\r\nBMV\tSmartShunt 500A/50mV\r\nFW\t0405\r\nChecksum\tK"

/* BMV-700 fields in the order of Victron's protocol document (the block
 * builder below adds "\r\n" before each field and the Checksum field). */
#define BMV_MAIN "PID\t0x203\r\nV\t26201\r\nI\t0\r\nP\t0\r\nCE\t0\r\nSOC\t1000\r\nTTG\t-1" \
	"\r\nAlarm\tOFF\r\nRelay\tOFF\r\nAR\t0\r\nBMV\t700\r\nFW\t0307"
#define BMV_HIST "H1\t-102\r\nH2\t0\r\nH3\t0\r\nH4\t17\r\nH5\t0\r\nH6\t-2330\r\nH7\t26199" \
	"\r\nH8\t26264\r\nH9\t0\r\nH10\t0\r\nH11\t0\r\nH12\t0\r\nH17\t0\r\nH18\t0"
/* BMV-712 discharging, temperature on the aux input */
#define BMV712_MAIN "PID\t0xA381\r\nV\t25604\r\nT\t-5\r\nI\t-12345\r\nP\t-316\r\nCE\t-40350" \
	"\r\nSOC\t875\r\nTTG\t1370\r\nAlarm\tON\r\nRelay\tON\r\nAR\t5\r\nBMV\t712 Smart\r\nFW\t0413" \
	"\r\nMON\t0"

static const size_t chunks_odd[] = { 1, 2, 1, 5, 3, 7, 13, 1, 26, 3, 11, 1, 40 };
static const size_t chunks_rnd[] = { 4, 9, 2, 17, 6, 1, 33, 8, 5, 60, 2, 120 };

/* ---- stream building ------------------------------------------------------ */

struct stream {
	size_t len;
	uint8_t buf[8192];
};

static void add_raw(struct stream *s, const void *p, size_t n)
{
	if (s->len + n <= sizeof(s->buf)) {
		memcpy(s->buf + s->len, p, n);
		s->len += n;
	}
}

static void add_str(struct stream *s, const char *str)
{
	add_raw(s, str, strlen(str));
}

/* "\r\n" fields "\r\nChecksum\t" byte; HEX frames (':' .. '\n') in `text`
 * are left out of the sum.  `delta` is added to the checksum byte (0 for a
 * valid block).  Returns the block's length. */
static size_t add_blk_d(struct stream *s, const char *text, int delta)
{
	size_t start = s->len;
	unsigned sum = 0;
	bool hex = false;

	add_str(s, "\r\n");
	add_str(s, text);
	add_str(s, "\r\nChecksum\t");
	for (size_t i = start; i < s->len; i++) {
		if (s->buf[i] == ':')
			hex = true;
		if (!hex)
			sum += s->buf[i];
		if (hex && s->buf[i] == '\n')
			hex = false;
	}
	uint8_t c = (uint8_t)(256u - (sum & 0xFF) + (unsigned)delta);
	add_raw(s, &c, 1);
	return s->len - start;
}

static size_t add_blk(struct stream *s, const char *text)
{
	return add_blk_d(s, text, 0);
}

/* ---- the gateway's side --------------------------------------------------- */

/* Feed the stream from `off` in cycled chunks until the poll completes
 * (r.done_at: the stream offset of the end of the completing block). */
static struct drive_res feed_from(struct bms_poll *poll, struct bms_rx *rx, const struct stream *s,
				  size_t off, const size_t *chunks, size_t nchunks)
{
	struct drive_res r = { 0 };

	if (off < s->len && drive_feed(poll, rx, s->buf + off, s->len - off, chunks, nchunks, &r))
		r.done_at += off;
	return r;
}

#define FEED(poll, rx, s, ch) feed_from(poll, rx, s, 0, ch, DRIVE_NCH(ch))

/* ---- tests ---------------------------------------------------------------- */

static void test_table(void)
{
	CHECK_STR(drv->name, "vedirect");
	CHECK_EQ_INT(drv->protocol_id, 10);
	CHECK_EQ_INT(drv->default_baud, 19200);
	CHECK(drv->listen_only);
	CHECK(drv->next_request == NULL);
	CHECK_EQ_INT(drv->min_address, 0);
	CHECK_EQ_INT(drv->max_address, 0);
	CHECK(drv->default_timeout >= 2.5); /* a lost block plus one whole cycle */
	CHECK(bms_find("vedirect") == drv);
}

/* The captured SmartShunt blocks verify, and decode. */
static void test_captured(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct bms_snapshot *s = &poll.snap;
	struct stream st = { 0 };
	size_t n;

	add_str(&st, SHUNT_H);
	size_t hlen = st.len;
	add_str(&st, SHUNT_MAIN);
	CHECK_EQ_INT(hlen, 137);
	CHECK_EQ_INT(st.len, 137 + 127);
	bms_poll_begin(&poll, 0, 0, false);
	for (size_t k = 0; k < hlen; k++)
		CHECK_EQ_INT(drv->scan(&poll, st.buf, k, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, st.buf, hlen, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, hlen);
	CHECK_EQ_INT(drv->scan(&poll, st.buf + hlen, 127, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, 127);
	CHECK_EQ_INT(drv->handle(&poll, st.buf, hlen), BMS_MORE);
	CHECK_EQ_INT(drv->handle(&poll, st.buf + hlen, 127), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(s->voltage, 12.868, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->power, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->ntemps, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC |
		     BMS_HAS_CYCLES | BMS_HAS_ALARMS);

	/* the same stream in every chunking, repeated: the poll ends with the
	 * first run-time block once a history block has been seen */
	static const struct {
		const size_t *ch;
		size_t n;
	} chk[] = { { chunks_one, 1 }, { chunks_odd, DRIVE_NCH(chunks_odd) }, { chunks_big, 1 },
		    { chunks_rnd, DRIVE_NCH(chunks_rnd) } };
	add_str(&st, SHUNT_H SHUNT_MAIN);
	for (size_t i = 0; i < sizeof(chk) / sizeof(chk[0]); i++) {
		drive_begin(&poll, &rx, 0, 0, false);
		struct drive_res r = feed_from(&poll, &rx, &st, 0, chk[i].ch, chk[i].n);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.frames, 2);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(r.bad_scan, 0);
		CHECK_EQ_INT(r.skipped, 0);
		CHECK_EQ_INT(r.done_at, 137 + 127);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK_NEAR(s->voltage, 12.868, 1e-4);
	}
	/* joining in the middle of the history block: its tail fails the
	 * checksum and is dropped whole; the rest of the stream completes */
	for (size_t join = 1; join < hlen; join += 7) {
		drive_begin(&poll, &rx, 0, 0, false);
		struct drive_res r = feed_from(&poll, &rx, &st, join, chunks_odd, DRIVE_NCH(chunks_odd));
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.bad_scan, 0);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(r.done_at, 2 * 137 + 127); /* then the next main waits for H4 */
	}
}

/* BMV-700 blocks in the documented field order, and poll completion. */
static void test_bmv700(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct bms_snapshot *s = &poll.snap;
	struct stream st = { 0 };
	struct drive_res r;

	size_t a = add_blk(&st, BMV_MAIN);
	CHECK_EQ_INT(st.buf[a - 1], 0xD8);
	add_blk(&st, BMV_HIST);
	add_blk(&st, BMV_MAIN);
	add_blk(&st, BMV_HIST);

	/* starting with the run-time block: it waits for the history */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(s->voltage, 26.201, 1e-4);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 17);
	CHECK_EQ_INT(s->raw_alarms[1], 0); /* Alarm OFF, Relay OFF */
	/* the consumed amp hours are kept in the driver's state */
	CHECK_EQ_INT(BMS_PRIV(&poll, struct ved_state)->ce_mah, 0);

	/* merged in one read: the poll takes what it needs and stops */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 2);
}

/* Values, signs, the alarm reason bits. */
static void test_values(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct bms_snapshot *s = &poll.snap;
	struct stream st = { 0 };
	struct drive_res r;

	add_blk(&st, BMV712_MAIN);
	add_blk(&st, BMV_HIST);
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_rnd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(s->voltage, 25.604, 1e-4);
	CHECK_NEAR(s->current, -12.345, 1e-4);
	CHECK_NEAR(s->power, -316.0, 1e-4);
	CHECK_NEAR(s->soc, 87.5, 1e-4);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], -5.0, 1e-6);
	CHECK_EQ_INT(s->raw_alarms[0], 5);
	CHECK_EQ_INT(s->raw_alarms[1], 3);
	CHECK_EQ_INT(s->alarms, BMS_AL_PACK_UV | BMS_AL_SOC_LOW);
	CHECK_EQ_INT(BMS_PRIV(&poll, struct ved_state)->ce_mah, -40350);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC |
		     BMS_HAS_CYCLES | BMS_HAS_ALARMS | BMS_HAS_TEMPS);
	CHECK(!(s->present & (BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_REMAIN | BMS_HAS_FULL |
			      BMS_HAS_SOH | BMS_HAS_BALANCE | BMS_HAS_MOS_TEMP)));

	/* invert_current turns current and power */
	drive_begin(&poll, &rx, 0, 0, true);
	r = FEED(&poll, &rx, &st, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(s->current, 12.345, 1e-4);
	CHECK_NEAR(s->power, 316.0, 1e-4);

	/* every AR bit */
	static const uint32_t map[16] = {
		BMS_AL_PACK_UV, BMS_AL_PACK_OV, BMS_AL_SOC_LOW, BMS_AL_OTHER,
		BMS_AL_OTHER, BMS_AL_CHG_UT | BMS_AL_DSG_UT, BMS_AL_CHG_OT | BMS_AL_DSG_OT, BMS_AL_CELL_DIFF,
		BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_OTHER,
		BMS_AL_SHORT, BMS_AL_PROTECTION, BMS_AL_OTHER, BMS_AL_OTHER,
	};
	for (unsigned bit = 0; bit < 16; bit++) {
		char text[256];
		struct stream b = { 0 };
		snprintf(text, sizeof(text), "V\t13300\r\nI\t1500\r\nSOC\t500\r\nAR\t%u\r\nH4\t3", 1u << bit);
		add_blk(&b, text);
		drive_begin(&poll, &rx, 0, 0, false);
		r = FEED(&poll, &rx, &b, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(s->raw_alarms[0], 1u << bit);
		CHECK_EQ_INT(s->alarms, map[bit]);
		CHECK_EQ_INT(s->cycles, 3);
	}

	/* "---": not available, the field stays absent; SOC "---" still
	 * completes the poll (a BMV before its first synchronisation) */
	st.len = 0;
	add_blk(&st, "PID\t0xA381\r\nV\t25604\r\nT\t---\r\nI\t0\r\nP\t0\r\nCE\t---\r\nSOC\t---\r\nTTG\t-1"
		     "\r\nAlarm\tOFF\r\nRelay\tOFF\r\nAR\t0\r\nH4\t9");
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(s->present & (BMS_HAS_SOC | BMS_HAS_TEMPS)));
	CHECK_EQ_INT(s->ntemps, 0);
	CHECK_EQ_INT(s->cycles, 9);

	/* V and I in one block, SOC in the next */
	st.len = 0;
	add_blk(&st, "V\t51200\r\nI\t-2000\r\nH4\t1");
	add_blk(&st, "SOC\t420\r\nTTG\t600");
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_rnd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_NEAR(s->voltage, 51.2, 1e-4);
	CHECK_NEAR(s->soc, 42.0, 1e-4);
	CHECK(!(s->present & BMS_HAS_POWER));
	bms_snapshot_derive(s);
	CHECK_NEAR(s->power, -102.4, 1e-3);
}

/* The history block is learned: a device without one is waited for only
 * until the first timeout, then polls complete on the run-time block. */
static void test_history_learning(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct stream st = { 0 };
	struct drive_res r;

	add_blk(&st, BMV_MAIN);
	add_blk(&st, BMV_MAIN);
	poll.persist = 0;
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK(!drv->timeout(&poll)); /* nothing yet: a real timeout */
	r = FEED(&poll, &rx, &st, chunks_odd);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.more, 2);
	CHECK(drv->timeout(&poll)); /* V, I, SOC in hand: no history block */
	CHECK(poll.persist != 0);
	/* the poller keeps waiting: the next block completes */
	r = FEED(&poll, &rx, &st, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CYCLES));
	/* the next polls complete on one block */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 1);
	/* a history block shows up again: it is expected from then on */
	st.len = 0;
	add_blk(&st, BMV_HIST);
	add_blk(&st, BMV_MAIN);
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(poll.persist, 0);
	drive_begin(&poll, &rx, 0, 0, false);
	st.len = 0;
	add_blk(&st, BMV_MAIN);
	r = FEED(&poll, &rx, &st, chunks_big);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.more, 1);
}

/* HEX-mode frames anywhere in the stream are skipped. */
static void test_hex(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct stream st = { 0 };
	struct drive_res r;
	size_t n;

	/* before, between and inside blocks (between fields, inside a value,
	 * between '\r' and '\n'), never in the checksums */
	add_str(&st, ":A0F0000AAB1\n:154\n");
	add_blk(&st, "PID\t0x203\r\nV\t262:A8DED00F50A00B6\n01\r\nI\t0:A8FED00000000C2\n\r\nP\t0"
		     "\r:AEEED000000009B\n\nSOC\t1000\r\nAR\t0");
	add_str(&st, ":4AAAA0000\n");
	add_blk(&st, ":A0F0000AAB1\nH4\t12\r\nH5\t0");
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(r.skipped, 18 + 11);
	CHECK_NEAR(poll.snap.voltage, 26.201, 1e-4);
	CHECK_EQ_INT(poll.snap.cycles, 12);

	/* a HEX frame between the CR and LF that open a block */
	struct stream one = { 0 }, c = { 0 };
	add_blk(&one, "V\t12000\r\nI\t0\r\nSOC\t500\r\nH4\t1");
	add_str(&c, "\r:A0F0000AAB1\n");
	add_raw(&c, one.buf + 1, one.len - 1);
	CHECK_EQ_INT(drv->scan(&poll, c.buf, c.len, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, c.len);
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &c, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.voltage, 12.0, 1e-4);

	/* a HEX frame at the start needs its '\n'; ':' followed by anything but
	 * hex digits is noise */
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)":A0F00", 6, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)":A0F0\n", 6, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 6);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)":A0G0\n", 6, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)":\n", 2, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);

	/* the checksum byte itself may be ':', '\r', '\n' or '\t' */
	static const uint8_t special[] = { ':', '\r', '\n', '\t', 0x00, 0xFF };
	for (size_t k = 0; k < sizeof(special); k++) {
		/* find a V value that makes the checksum byte `special[k]` */
		for (unsigned v = 12000; v < 13000; v++) {
			char text[128];
			struct stream b = { 0 };
			snprintf(text, sizeof(text), "V\t%u\r\nI\t-100\r\nSOC\t990\r\nH4\t0", v);
			size_t bl = add_blk(&b, text);
			if (b.buf[bl - 1] != special[k])
				continue;
			add_blk(&b, "H4\t1"); /* a second block right after */
			CHECK_EQ_INT(drv->scan(&poll, b.buf, b.len, &n), BMS_SCAN_FRAME);
			CHECK_EQ_INT(n, bl);
			drive_begin(&poll, &rx, 0, 0, false);
			r = FEED(&poll, &rx, &b, chunks_one);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.done_at, bl);
			CHECK_NEAR(poll.snap.voltage, v / 1000.0, 1e-4);
			break;
		}
	}
}

/* Bad checksum, truncation, garbage, line noise, nonsense values. */
static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct stream st = { 0 };
	struct drive_res r;
	size_t n;

	/* a bad checksum: that block is dropped whole, the next one counts */
	size_t bad = add_blk_d(&st, BMV712_MAIN "\r\nH4\t2", 1);
	add_blk(&st, BMV_MAIN "\r\nH4\t3");
	CHECK_EQ_INT(drv->scan(&poll, st.buf, st.len, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, bad);
	CHECK_EQ_INT(drv->handle(&poll, st.buf, bad), BMS_E_CHECKSUM);
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.skipped, bad);
	CHECK_NEAR(poll.snap.voltage, 26.201, 1e-4);
	CHECK_EQ_INT(poll.snap.cycles, 3);

	/* a truncated block (the simulator's fault: 9 bytes) running into the
	 * next: both fail; the cycle after that completes */
	st.len = 0;
	add_blk(&st, BMV_MAIN);
	st.len = 9;
	add_blk(&st, BMV_HIST);
	size_t lost = st.len;
	add_blk(&st, BMV_MAIN);
	add_blk(&st, BMV_HIST);
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_rnd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.skipped, lost);
	CHECK_EQ_INT(r.done_at, st.len);
	/* handle() on a cut block, on bytes that are not a block */
	CHECK_EQ_INT(drv->handle(&poll, st.buf + lost, 40), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)"PID\t1", 5), BMS_E_HEADER);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)"\r\nPID\t\x01", 7), BMS_E_HEADER);
	CHECK_EQ_INT(drv->handle(&poll, st.buf, 0), BMS_E_HEADER);

	/* garbage between blocks and in front: binary junk, lone CR / LF,
	 * fake fields */
	st.len = 0;
	static const char junk1[] = "\x00\xff\x80\r\r\n\n\t\r\nV\t\r\n\tX\r\n:zz\r\nChecksum";
	add_raw(&st, junk1, sizeof(junk1) - 1);
	add_blk(&st, BMV_HIST);
	add_raw(&st, "\x13\x37\r\x01\n", 5);
	add_blk(&st, BMV_MAIN);
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(r.frames, 2);

	/* line noise: one byte changed anywhere in a block loses that block
	 * only (the stream around it is fine) */
	struct stream clean = { 0 };
	add_blk(&clean, BMV_MAIN);
	size_t a = clean.len;
	add_blk(&clean, BMV_HIST);
	add_blk(&clean, BMV_MAIN);
	add_blk(&clean, BMV_HIST);
	for (size_t pos = 0; pos < a; pos += 3) {
		for (unsigned flip = 1; flip < 256; flip <<= 3) {
			st = clean;
			st.buf[pos] ^= (uint8_t)flip;
			drive_begin(&poll, &rx, 0, 0, false);
			r = FEED(&poll, &rx, &st, chunks_rnd);
			CHECK_EQ_INT(r.bad_scan, 0);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_NEAR(poll.snap.voltage, 26.201, 1e-4);
			CHECK_EQ_INT(poll.snap.cycles, 17);
		}
	}

	/* values out of range or malformed: the block is refused, nothing of
	 * it is taken */
	static const char *const nonsense[] = {
		"V\t13300\r\nI\t100\r\nSOC\t1001",   "V\t13300\r\nI\t1x0\r\nSOC\t500",
		"V\t-1\r\nI\t0\r\nSOC\t500",         "V\t13300\r\nI\t0\r\nSOC\t500\r\nT\t99999",
		"V\t\r\nI\t0\r\nSOC\t500",           "V\t133000000000\r\nI\t0\r\nSOC\t5",
		"V\t13300\r\nI\t-\r\nSOC\t500",      "V\t13300\r\nAR\t65536\r\nSOC\t500",
	};
	for (size_t k = 0; k < sizeof(nonsense) / sizeof(nonsense[0]); k++) {
		st.len = 0;
		size_t bl = add_blk(&st, nonsense[k]);
		bms_poll_begin(&poll, 0, 0, false);
		CHECK_EQ_INT(drv->scan(&poll, st.buf, bl, &n), BMS_SCAN_FRAME);
		CHECK_EQ_INT(drv->handle(&poll, st.buf, bl), BMS_E_RANGE);
		CHECK_EQ_INT(poll.snap.present, 0);
		CHECK_EQ_INT(poll.seen, 0);
	}
	/* a temperature no sensor reads (999 degC): the block counts, the
	 * reading kept for the gateway's gate (absent, a sensor fault) */
	st.len = 0;
	size_t tl = add_blk(&st, "V\t13300\r\nI\t0\r\nSOC\t500\r\nT\t999");
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, st.buf, tl), BMS_MORE);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 999.0, 1e-6);
	CHECK_EQ_INT(bms_sensor_faults(&poll.snap, NULL), 1u << 0);
	/* unknown ON/OFF words are ignored */
	st.len = 0;
	size_t bl = add_blk(&st, "V\t13300\r\nAlarm\tMAYBE\r\nRelay\tON");
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, st.buf, bl), BMS_MORE);
	CHECK_EQ_INT(poll.snap.raw_alarms[1], 2);

	/* grammar limits: an over-long label or value, too many fields */
	char text[1400];
	st.len = 0;
	add_blk(&st, "ABCDEFGHIJKLMNOP\t1");
	CHECK_EQ_INT(drv->scan(&poll, st.buf, st.len, &n), BMS_SCAN_SKIP);
	CHECK(n < st.len);
	st.len = 0;
	memset(text, 0, sizeof(text));
	strcpy(text, "SER#\t");
	memset(text + 5, 'A', 60);
	add_blk(&st, text);
	CHECK_EQ_INT(drv->scan(&poll, st.buf, st.len, &n), BMS_SCAN_SKIP);
	st.len = 0;
	text[0] = '\0';
	for (int i = 0; i < 40; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%sH%d\t%d", i ? "\r\n" : "", i, i);
	add_blk(&st, text);
	CHECK_EQ_INT(drv->scan(&poll, st.buf, st.len, &n), BMS_SCAN_SKIP);
	/* a stream of fields that never ends: NEED only up to a bound */
	st.len = 0;
	for (int i = 0; i < 200; i++)
		add_str(&st, "\r\nH9\t1");
	CHECK_EQ_INT(drv->scan(&poll, st.buf, 100, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, st.buf, st.len, &n), BMS_SCAN_SKIP);
	CHECK(n >= 1 && n <= st.len);

	/* rx overflow with junk: nothing breaks, a later good cycle counts */
	st.len = 0;
	for (size_t k = 0; k < 3000; k++) {
		uint8_t c = (uint8_t)(k * 7 + (k >> 3));
		if (k % 53 == 0)
			c = '\r';
		else if (k % 53 == 1)
			c = '\n';
		else if (k % 89 == 0)
			c = ':';
		add_raw(&st, &c, 1);
	}
	add_blk(&st, BMV_HIST);
	add_blk(&st, BMV_MAIN);
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED(&poll, &rx, &st, chunks_rnd);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.done_at, st.len);
}

static void test_finish(void)
{
	struct bms_poll poll = { 0 };
	struct stream st = { 0 };

	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	size_t bl = add_blk(&st, "V\t0\r\nI\t0\r\nSOC\t0\r\nH4\t0");
	CHECK_EQ_INT(drv->handle(&poll, st.buf, bl), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID); /* 0 V: no battery, no data */
	bms_poll_begin(&poll, 0, 0, false);
	st.len = 0;
	bl = add_blk(&st, "V\t12000\r\nI\t0\r\nSOC\t0\r\nH4\t0");
	CHECK_EQ_INT(drv->handle(&poll, st.buf, bl), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* a completed poll still accepts a block (after timeout() said so) */
	CHECK_EQ_INT(drv->handle(&poll, st.buf, bl), BMS_OK);
}

int main(void)
{
	test_table();
	test_captured();
	test_bmv700();
	test_values();
	test_history_learning();
	test_hex();
	test_broken();
	test_finish();
	return check_report();
}
