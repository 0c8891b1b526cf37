/* SPDX-License-Identifier: MIT */
/* tests/unit/test_slcan.c - the Lawicel slcan line codec
 * (gateway/wire/slcan.c): lines of frames and setup commands byte for
 * byte, encode/parse round trips, and every reply an adapter may send
 * (OK, BEL, z/Z, V, N, F, timestamps, lower-case hex, garbage, overlong
 * lines) through the parser in every chunking.  Formats:
 * gateway/inverter/PROTOCOLS.md §5. */
#include <stdio.h>
#include <string.h>

#include "../../gateway/wire/can.h"
#include "../../gateway/wire/slcan.h"
#include "check.h"

static struct gw_can_frame mk(uint32_t id, bool ext, bool rtr, uint8_t dlc)
{
	struct gw_can_frame f;

	memset(&f, 0, sizeof(f));
	f.id = id;
	f.ext = ext;
	f.rtr = rtr;
	f.dlc = dlc;
	for (unsigned i = 0; !rtr && i < dlc && i < 8; i++)
		f.data[i] = (uint8_t)(0x11 * (i + 1) + id);
	return f;
}

static bool same_frame(const struct gw_can_frame *a, const struct gw_can_frame *b)
{
	return a->id == b->id && a->ext == b->ext && a->rtr == b->rtr && a->dlc == b->dlc &&
	       memcmp(a->data, b->data, sizeof(a->data)) == 0;
}

static void test_encode(void)
{
	char out[64];
	struct gw_can_frame f = mk(0x351, false, false, 8);

	static const uint8_t d351[8] = { 0x28, 0x02, 0xF4, 0x01, 0x58, 0x02, 0xD0, 0x01 };
	memcpy(f.data, d351, 8);
	CHECK_EQ_INT(slcan_encode(&f, out, sizeof(out)), 22);
	CHECK_STR(out, "t35182802F4015802D001\r");
	f = mk(0x12345678, true, false, 2);
	f.data[0] = 0x01;
	f.data[1] = 0xAB;
	CHECK_EQ_INT(slcan_encode(&f, out, sizeof(out)), 15);
	CHECK_STR(out, "T12345678201AB\r");
	f = mk(0x305, false, true, 8);
	CHECK_EQ_INT(slcan_encode(&f, out, sizeof(out)), 6);
	CHECK_STR(out, "r3058\r");
	f = mk(0x305, true, true, 0);
	CHECK_EQ_INT(slcan_encode(&f, out, sizeof(out)), 11);
	CHECK_STR(out, "R000003050\r");
	f = mk(0x7FF, false, false, 0);
	CHECK_EQ_INT(slcan_encode(&f, out, sizeof(out)), 6);
	CHECK_STR(out, "t7FF0\r");
	/* the longest line fits SLCAN_LINE_MAX with its 4-digit timestamp */
	f = mk(GW_CAN_MAX_EXT_ID, true, false, 8);
	CHECK_EQ_INT(slcan_encode(&f, out, sizeof(out)), 27);
	CHECK(27 + 4 <= SLCAN_LINE_MAX);
	/* frames that cannot be sent; buffers too small; exactly the line */
	f = mk(0x800, false, false, 0);
	CHECK_EQ_INT(slcan_encode(&f, out, sizeof(out)), -1);
	f = mk(0x20000000, true, false, 0);
	CHECK_EQ_INT(slcan_encode(&f, out, sizeof(out)), -1);
	f = mk(0x123, false, false, 8);
	f.dlc = 9;
	CHECK_EQ_INT(slcan_encode(&f, out, sizeof(out)), -1);
	f.dlc = 1;
	CHECK_EQ_INT(slcan_encode(&f, out, 7), -1);
	memset(out, 'x', sizeof(out));
	CHECK_EQ_INT(slcan_encode(&f, out, 8), 8);
	CHECK(memcmp(out, "t1231", 5) == 0 && out[7] == '\r' && out[8] == 'x');

	/* setup lines */
	CHECK_EQ_INT(slcan_bitrate_code(500000), '6');
	CHECK_EQ_INT(slcan_bitrate_code(10000), '0');
	CHECK_EQ_INT(slcan_bitrate_code(250000), '5');
	CHECK_EQ_INT(slcan_bitrate_code(800000), '7');
	CHECK_EQ_INT(slcan_bitrate_code(1000000), '8');
	CHECK_EQ_INT(slcan_bitrate_code(83333), -1);
	CHECK_EQ_INT(slcan_bitrate_code(0), -1);
	CHECK_EQ_INT(slcan_cmd_bitrate(500000, out, sizeof(out)), 3);
	CHECK_STR(out, "S6\r");
	CHECK_EQ_INT(slcan_cmd_bitrate(123, out, sizeof(out)), -1);
	CHECK_EQ_INT(slcan_cmd_bitrate(500000, out, 2), -1);
	CHECK_STR(SLCAN_CMD_CLOSE, "C\r");
	CHECK_STR(SLCAN_CMD_OPEN, "O\r");
}

/* Parse s fed in chunks cut at cuts[0..ncuts); events into ev[0..max). */
static int parse_cut(const char *s, size_t len, const size_t *cuts, int ncuts,
		     struct slcan_rx_event *ev, int max, struct slcan_rx *rx)
{
	size_t at = 0;
	int n = 0;

	slcan_rx_init(rx);
	for (int k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		while (at < end) {
			struct slcan_rx_event e;
			size_t used = slcan_rx_feed(rx, (const uint8_t *)s + at, end - at, &e);
			if (used == 0 || used > end - at)
				return -1;
			at += used;
			if (e.kind != SLCAN_EV_NONE) {
				if (n >= max)
					return -2;
				ev[n++] = e;
			} else if (at != end) {
				return -3; /* NONE only when the chunk is used up */
			}
		}
	}
	return n;
}

/* Encode then parse: the same frame back, every DLC, both id kinds, RTR. */
static void test_round_trip(void)
{
	static const uint32_t ids[] = { 0x000, 0x305, 0x351, 0x7FF, 0x12345678, 0x1FFFFFFF, 0x305 };
	int bad = 0, runs = 0;

	for (unsigned k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		for (int rtr = 0; rtr < 2; rtr++) {
			for (uint8_t dlc = 0; dlc <= 8; dlc++) {
				bool ext = ids[k] > 0x7FF || k == 6;
				struct gw_can_frame f = mk(ids[k], ext, rtr, dlc);
				char line[SLCAN_LINE_MAX + 1];
				struct slcan_rx_event ev[2];
				struct slcan_rx rx;
				int len = slcan_encode(&f, line, sizeof(line));
				int n = len > 0 ? parse_cut(line, (size_t)len, NULL, 0, ev, 2, &rx) : -1;
				runs++;
				if (n != 1 || ev[0].kind != SLCAN_EV_FRAME || !same_frame(&ev[0].frame, &f) ||
				    ev[0].has_time || rx.frames != 1)
					bad++;
			}
		}
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(runs, 7 * 2 * 9);
}

/* Everything an adapter says, in one stream. */
static const char stream[] =
	"\r"                          /* OK (after C, S6, O) */
	"\a"                          /* BEL: refused */
	"z\r" "Z\r"                   /* transmit acknowledgements */
	"V1013\r"                     /* version */
	"NA123\r"                     /* serial number */
	"F00\r" "F8a\r"               /* status flags */
	"t35182802f4015802d001\r"     /* lower-case hex */
	"T000003052ABCD\r"            /* extended */
	"t305100EA5F\r"               /* with a timestamp (Z1) */
	"r3058\r\n"                   /* remote, then CR LF */
	"hello\r"                     /* garbage */
	"t3052001\r"                  /* DLC 2, one byte */
	"t30590011223344556677889\r"  /* DLC 9 */
	"t8000\r"                     /* an 11-bit id above 0x7FF */
	"t305100123\r"                /* 3 digits after the data */
	"t30510012\r"                 /* 2 digits after the data */
	"F8\r"                        /* short status */
	"t0123456789abcdef0123456789abcdef0123\r" /* overlong */
	"t30\a"                       /* BEL ends a partial line */
	"t3051AA\n";                  /* LF-terminated frame */

struct want {
	enum slcan_event kind;
	uint32_t id;
	uint8_t dlc;
	const char *data;             /* hex, or the text of V / N */
	int time;                     /* -1: none */
};

static const struct want wants[] = {
	{ SLCAN_EV_OK, 0, 0, NULL, -1 },
	{ SLCAN_EV_ERROR, 0, 0, NULL, -1 },
	{ SLCAN_EV_TX_ACK, 0, 0, NULL, -1 },
	{ SLCAN_EV_TX_ACK, 0, 0, NULL, -1 },
	{ SLCAN_EV_VERSION, 0, 0, "1013", -1 },
	{ SLCAN_EV_SERIAL, 0, 0, "A123", -1 },
	{ SLCAN_EV_STATUS, 0, 0, NULL, -1 },
	{ SLCAN_EV_STATUS, 0x8A, 0, NULL, -1 },
	{ SLCAN_EV_FRAME, 0x351, 8, "2802F4015802D001", -1 },
	{ SLCAN_EV_FRAME, 0x305, 2, "ABCD", -1 },
	{ SLCAN_EV_FRAME, 0x305, 1, "00", 0xEA5F },
	{ SLCAN_EV_FRAME, 0x305, 8, "", -1 },
	{ SLCAN_EV_BAD, 0, 0, NULL, -1 },
	{ SLCAN_EV_BAD, 0, 0, NULL, -1 },
	{ SLCAN_EV_BAD, 0, 0, NULL, -1 },
	{ SLCAN_EV_BAD, 0, 0, NULL, -1 },
	{ SLCAN_EV_BAD, 0, 0, NULL, -1 },
	{ SLCAN_EV_BAD, 0, 0, NULL, -1 },
	{ SLCAN_EV_BAD, 0, 0, NULL, -1 },
	{ SLCAN_EV_OVERLONG, 0, 0, NULL, -1 },
	{ SLCAN_EV_ERROR, 0, 0, NULL, -1 },
	{ SLCAN_EV_FRAME, 0x305, 1, "AA", -1 },
};
#define NWANTS ((int)(sizeof(wants) / sizeof(wants[0])))

static bool matches(const struct slcan_rx_event *e, const struct want *w, int k)
{
	unsigned char d[8];
	int n;

	if (e->kind != w->kind)
		return false;
	if (w->kind == SLCAN_EV_STATUS)
		return e->status == w->id;
	if (w->kind == SLCAN_EV_VERSION || w->kind == SLCAN_EV_SERIAL)
		return strcmp(e->text, w->data) == 0;
	if (w->kind != SLCAN_EV_FRAME)
		return true;
	n = check_hex(w->data, d, 8);
	if (e->frame.id != w->id || e->frame.dlc != w->dlc || e->frame.ext != (k == 9) ||
	    e->frame.rtr != (k == 11) || (w->time >= 0) != e->has_time ||
	    (w->time >= 0 && e->time_ms != w->time))
		return false;
	return n == (e->frame.rtr ? 0 : w->dlc) && memcmp(e->frame.data, d, (size_t)n) == 0;
}

static bool stream_ok(const struct slcan_rx_event *ev, int n, const struct slcan_rx *rx)
{
	if (n != NWANTS)
		return false;
	for (int k = 0; k < n; k++)
		if (!matches(&ev[k], &wants[k], k))
			return false;
	return rx->frames == 5 && rx->oks == 1 && rx->errors == 2 && rx->acks == 2 &&
	       rx->replies == 4 && rx->bad == 8 && rx->overlong_lines == 1;
}

static void test_stream_chunkings(void)
{
	size_t len = sizeof(stream) - 1;
	struct slcan_rx_event ev[NWANTS + 2];
	struct slcan_rx rx;
	int bad = 0, runs = 0;

	/* whole */
	int n = parse_cut(stream, len, NULL, 0, ev, NWANTS + 2, &rx);
	CHECK_EQ_INT(n, NWANTS);
	for (int k = 0; k < n && k < NWANTS; k++)
		if (!matches(&ev[k], &wants[k], k))
			fprintf(stderr, "  event %d: kind %d (want %d)\n", k, ev[k].kind, wants[k].kind);
	CHECK(stream_ok(ev, n, &rx));
	/* every cut into two and three reads */
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j++) {
			size_t cuts[2] = { i, j };
			n = parse_cut(stream, len, cuts, 2, ev, NWANTS + 2, &rx);
			runs++;
			if (!stream_ok(ev, n, &rx))
				bad++;
		}
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(runs, (int)((len + 1) * (len + 2) / 2));
	/* byte by byte */
	size_t cuts[sizeof(stream)];
	for (size_t k = 0; k + 1 < len; k++)
		cuts[k] = k + 1;
	n = parse_cut(stream, len, cuts, (int)len - 1, ev, NWANTS + 2, &rx);
	CHECK(stream_ok(ev, n, &rx));
}

/* The parser's state across calls: a line longer than the buffer in
 * small reads, then a good frame; a lone LF is nothing. */
static void test_state(void)
{
	struct slcan_rx rx;
	struct slcan_rx_event e;
	char big[200];

	slcan_rx_init(&rx);
	memset(big, '1', sizeof(big));
	for (size_t at = 0; at < sizeof(big); at += 7) {
		size_t n = sizeof(big) - at < 7 ? sizeof(big) - at : 7;
		CHECK_EQ_INT(slcan_rx_feed(&rx, (const uint8_t *)big + at, n, &e), n);
		CHECK_EQ_INT(e.kind, SLCAN_EV_NONE);
	}
	CHECK_EQ_INT(slcan_rx_feed(&rx, (const uint8_t *)"\rt1230\r", 7, &e), 1);
	CHECK_EQ_INT(e.kind, SLCAN_EV_OVERLONG);
	CHECK_EQ_INT(slcan_rx_feed(&rx, (const uint8_t *)"t1230\r", 6, &e), 6);
	CHECK_EQ_INT(e.kind, SLCAN_EV_FRAME);
	CHECK_EQ_INT(e.frame.id, 0x123);
	CHECK_EQ_INT(slcan_rx_feed(&rx, (const uint8_t *)"\n\n", 2, &e), 2);
	CHECK_EQ_INT(e.kind, SLCAN_EV_NONE);
	CHECK_EQ_INT(rx.overlong_lines, 1);
	CHECK_EQ_INT(rx.frames, 1);
	CHECK_EQ_INT(rx.len, 0);
	/* a line of exactly SLCAN_LINE_MAX - 1 characters is not overlong */
	CHECK_EQ_INT(slcan_rx_feed(&rx, (const uint8_t *)"T1FFFFFFF8112233445566778899AB\r", 31, &e), 31);
	CHECK_EQ_INT(e.kind, SLCAN_EV_FRAME);
	CHECK(e.has_time);
	CHECK_EQ_INT(e.time_ms, 0x99AB);
	CHECK_EQ_INT(e.frame.data[7], 0x88);
}

/* SocketCAN's error frames as the port reads them (gateway/wire/
 * socketcan.c): bus-off, restarted, the rest ignored. */
static void test_error_frames(void)
{
	CHECK_EQ_INT(gw_can_err_class(0x20000040u), GW_CAN_ERR_BUSOFF);    /* CAN_ERR_FLAG | CAN_ERR_BUSOFF */
	CHECK_EQ_INT(gw_can_err_class(0x20000100u), GW_CAN_ERR_RESTARTED); /* | CAN_ERR_RESTARTED */
	CHECK_EQ_INT(gw_can_err_class(0x20000004u), GW_CAN_ERR_OTHER);     /* | CAN_ERR_CRTL (warning, passive) */
	CHECK_EQ_INT(gw_can_err_class(0x00000040u), GW_CAN_ERR_OTHER);     /* a data frame 0x040 */
	CHECK_EQ_INT(gw_can_err_class(0x20000140u), GW_CAN_ERR_BUSOFF);    /* both: bus-off wins */
}

int main(void)
{
	test_error_frames();
	test_encode();
	test_round_trip();
	test_stream_chunkings();
	test_state();
	return check_report();
}
