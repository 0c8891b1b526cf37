/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_d_powercore.c - libFuzzer target: whole polls of the
 * D-powercore driver (bms/d_powercore.c), driven the way
 * gateway/poll/poller.c and bus_engine.c drive a keep_rx driver: each step's
 * request written, sent() asked, what arrives kept across the steps of a
 * poll and framed (scan() + handle()), a failed try retried (what was
 * kept dropped), a poll ended by finish().  Beyond a generic target: every
 * write is one of the protocol's (the read requests, the unlock of the
 * name, or the last page taken echoed with bit 7), never anything before a
 * name that gives an unlock, every frame scan() reports a 20-byte page
 * with a sound head, and answers with their sum forged reach the decoder.
 *
 * Input: byte 0 the setup (bits 0..1 the name: DXB-..._C0FE, TBA-...,
 * none, one without hex digits; bit 2 invert_current; bits 3..7 a forced
 * cell count), then events by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection (the next poll's link_fresh)
 *	E == 0xFF	a synthesised answer to the read in progress, its sum
 *			right: the next byte L its data's length (L % 40), the
 *			next L bytes its data (zero-padded), in 18-byte pages
 *	otherwise	the next min(E, rest) bytes arrive.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"

#define REQUIRE(c) \
	do { \
		if (!(c)) { \
			fprintf(stderr, "%s:%d: REQUIRE(%s)\n", __FILE__, __LINE__, #c); \
			abort(); \
		} \
	} while (0)

static const struct bms_driver *const drv = &bms_d_powercore_driver;
static const char *const names[] = { "DXB-MockBLEDevice_C0FE", "TBA-MockBLEDevice_C0FE", "", "DXB-NoDigits" };

struct fz {
	struct bms_poll poll;
	struct bms_rx rx;
	uint8_t last_page[20]; /* the last page handle() took (BMS_OK) */
	bool have_page;
	uint8_t cmd;           /* the read last written (0: none) */
	bool fresh;
	int rc;
};

static void check_write(struct fz *z, const uint8_t *w, int n)
{
	REQUIRE(n == 20);
	if (w[0] & 0x80) { /* an acknowledgement: the last page taken, echoed */
		REQUIRE(z->have_page && (z->last_page[0] | 0x80) == w[0] && memcmp(z->last_page + 1, w + 1, 19) == 0);
		return;
	}
	REQUIRE(w[1] == 0x11 && w[2] == 0x3A && w[3] == 0x03 && w[4] == 0x05 && w[6] == 0 && w[7] == 0);
	if (w[5] == 0x64) {
		REQUIRE(z->poll.peer_name[0] == 'D' && w[0] == 14 && w[8] == 0xC0 && w[9] == 0xFE);
		return;
	}
	REQUIRE(w[0] == 12 && w[5] >= 0x60 && w[5] <= 0x62);
	REQUIRE(((w[8] << 8) | w[9]) == w[5] + 8 && w[10] == 0x0D && w[11] == 0x0A);
	z->cmd = w[5];
}

static enum bms_frame_next take(void *ctx, const uint8_t *f, size_t n)
{
	struct fz *z = ctx;
	REQUIRE(n == 20 && (f[0] & 0x7F) >= 1 && (f[1] >> 4) >= 1 && (f[1] >> 4) <= (f[1] & 0x0F));
	int rc = drv->handle(&z->poll, f, n);
	if (rc == BMS_MORE || rc == BMS_E_UNEXPECTED)
		return BMS_FRAME_MORE;
	if (rc == BMS_OK) {
		memcpy(z->last_page, f, 20);
		z->have_page = true;
	}
	z->rc = rc;
	return BMS_FRAME_STOP;
}

static void begin(struct fz *z)
{
	uint32_t persist = z->poll.persist;
	char keep[BMS_PEER_NAME_LEN];
	memcpy(keep, z->poll.peer_name, sizeof(keep));
	uint8_t cells = z->poll.cells_forced;
	bool inv = z->poll.invert_current;
	bms_poll_begin(&z->poll, 0, cells, inv);
	memcpy(z->poll.peer_name, keep, sizeof(keep));
	z->poll.persist = persist;
	z->poll.link = BMS_LINK_BLE;
	z->poll.link_fresh = z->fresh;
	z->fresh = false;
	bms_rx_clear(&z->rx);
	z->have_page = false;
}

/* The poll's next write, until one waits for an answer; false when the poll
 * ended (a new one begun). */
static bool step(struct fz *z)
{
	for (int guard = 0; guard < 64; guard++) {
		uint8_t w[64];
		int n = drv->next_request(&z->poll, w, sizeof(w));
		if (n == 0) {
			if (drv->finish(&z->poll) == BMS_OK) {
				const struct bms_snapshot *s = &z->poll.snap;
				REQUIRE(s->ncells >= 1 && s->ncells <= BMS_MAX_CELLS && s->soc <= 100.0f);
				REQUIRE((s->present & drv->provides) == s->present);
			}
			begin(z);
			return false;
		}
		if (n < 0) {
			REQUIRE(n != BMS_E_NAME || strncmp(z->poll.peer_name, "TBA-", 4) != 0);
			begin(z);
			return false;
		}
		check_write(z, w, n);
		if (!drv->sent(&z->poll))
			return true;
		z->poll.attempt = 0;
	}
	REQUIRE(!"a poll that never waits");
	return false;
}

static void frames(struct fz *z)
{
	z->rc = 1;
	bms_frames(drv, &z->poll, &z->rx, take, z, NULL);
	if (z->rc == BMS_OK) {
		z->poll.attempt = 0;
		step(z);
	} else if (z->rc != 1) {
		bms_rx_clear(&z->rx); /* a failed try: retried */
		z->poll.attempt++;
		step(z);
	}
}

/* An answer to the read in progress, its sum right, into the bytes. */
static void synth(struct fz *z, const uint8_t *d, size_t n, size_t *used)
{
	uint8_t f[64] = { 0x3A, 0x05, 0x03, z->cmd ? z->cmd : 0x60 };
	size_t len = n ? d[0] % 40u : 0;
	*used = n ? 1 : 0;
	for (size_t i = 0; i < len; i++)
		f[6 + i] = *used + i < n ? d[*used + i] : 0;
	*used += len < n - *used ? len : n - *used;
	f[4] = 0;
	f[5] = (uint8_t)len;
	uint32_t sum = bms_sum(f + 3, 3 + len) + 8;
	f[6 + len] = (uint8_t)(sum >> 8);
	f[7 + len] = (uint8_t)sum;
	f[8 + len] = 0x0D;
	f[9 + len] = 0x0A;
	size_t total = len + 10, pages = (total + 17) / 18;
	for (size_t k = 0; k < pages; k++) {
		uint8_t p[20] = { 0 };
		size_t m = total - 18 * k < 18 ? total - 18 * k : 18;
		p[0] = (uint8_t)m;
		p[1] = (uint8_t)((k + 1) << 4 | pages);
		memcpy(p + 2, f + 18 * k, m);
		bms_rx_feed(&z->rx, p, sizeof(p));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct fz z;
	if (n < 1)
		return 0;
	memset(&z, 0, sizeof(z));
	snprintf(z.poll.peer_name, sizeof(z.poll.peer_name), "%s", names[d[0] & 3]);
	z.poll.invert_current = (d[0] & 4) != 0;
	z.poll.cells_forced = (uint8_t)(d[0] >> 3);
	z.fresh = true;
	begin(&z);
	step(&z);
	size_t i = 1;
	while (i < n) {
		uint8_t e = d[i++];
		if (e == 0) { /* a timeout: the gateway retries, what was kept dropped */
			bms_rx_clear(&z.rx);
			z.poll.attempt++;
			if (z.poll.attempt > 2)
				begin(&z);
			step(&z);
		} else if (e == 0xFE) {
			z.fresh = true;
			begin(&z);
			step(&z);
		} else if (e == 0xFF) {
			size_t used;
			synth(&z, d + i, n - i, &used);
			i += used;
			frames(&z);
		} else {
			size_t k = e < n - i ? e : n - i;
			bms_rx_feed(&z.rx, d + i, k);
			i += k;
			frames(&z);
		}
	}
	return 0;
}
