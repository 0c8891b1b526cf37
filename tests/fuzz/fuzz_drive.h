/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_drive.h - the libFuzzer harness of the BMS driver
 * targets: whole polls driven from the fuzz input the way gateway/poll/poller.c
 * drives a driver (request, drain, read, scan + handle, retries, timeout(),
 * finish(); a listen-only driver just listens), checking after every step
 * the invariants every driver keeps.  A target describes its driver in a
 * struct fd_target (limits, the handle() results it can give, what a good
 * sample always has) and adds checks of its own in hooks.
 *
 * Input (the usual layout; a target may parse its own with `config`):
 *	byte 0	(only if addr_mask) address = byte & addr_mask
 *	next	bit 6 set: cells_forced = bits 0..5, else 0
 *	next	bit 0 invert_current, bit 1 (if persist_bit) start with
 *		poll.persist = 1, bits 2..3 retries, bit 4 poll.setpoints
 *		(read the MOSFET switch settings too, as for a pack with
 *		control), bit 5 poll.refresh on every poll (else only the
 *		first poll reads the slow values, the later ones use the
 *		ones kept, as between the gateway's refreshes), bit 6 the
 *		pack is reached over Bluetooth LE (poll.link = BMS_LINK_BLE,
 *		poll.link_fresh on the first poll, as after a connect), bit 7
 *		poll.settings_due on every poll (the BMS's own settings
 *		asked by requests of their own, where a driver has them)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step (or wait)
 *	E in event	the target's own (e.g. a synthesised reply with a CRC
 *			a mutator cannot forge)
 *	otherwise	the next min(E, rest) bytes arrive as one read(),
 *			framed by the daemon's loop (bms_frames()).
 * A finished poll (good or failed) starts the next one, keeping persist
 * and the kept slow values;
 * an address next_request() refuses ends the run.  A step the driver says
 * listens (struct bms_driver.listens) sends nothing and waits for the
 * BMS's own frames from a clean buffer, as gateway/poll/poller.c does.  As
 * the poller too: a write sent() says nothing answers moves on to the next
 * step at once (never endlessly: a run of such writes is a driver's bug),
 * and a driver that keeps what arrived across its steps (keep_rx) has it
 * framed at the next step, the buffer emptied only when a poll begins on
 * a connection that is not fresh or a try fails.
 *
 * A target file includes this, defines its hooks and its struct
 * fd_target, and an LLVMFuzzerTestOneInput() that calls fd_run().
 */
#ifndef TESTS_FUZZ_DRIVE_H
#define TESTS_FUZZ_DRIVE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

#include "fuzz_served.h"

/* A set of handle() results (BMS_E_AUTH .. BMS_MORE). */
#define FD_RC(rc) (1u << ((rc) - BMS_E_AUTH)) /* BMS_E_AUTH is the lowest code */

/* What handle()'s BMS_OK does to poll.step. */
enum fd_step {
	FD_STEP_NEXT,    /* step + 1 */
	FD_STEP_ON,      /* some later step */
	FD_STEP_ON_OR_SAME, /* or the same (a value to be confirmed by a re-read) */
	FD_STEP_ANY,     /* not checked (listen-only) */
};

/* event(): E is not the target's own event */
#define FD_NOT_MINE ((size_t)-1)

struct fd;

struct fd_target {
	const struct bms_driver *drv;

	/* input: the usual layout, or config() (returns the bytes it used,
	 * 0 when the input is too short) */
	uint8_t addr_mask;      /* the address byte & this; 0 = no address byte (address 0) */
	bool persist_bit;
	size_t (*config)(struct fd *s, const uint8_t *data, size_t size);
	/* an event byte E of the target's own: the input bytes it used, or
	 * FD_NOT_MINE */
	size_t (*event)(struct fd *s, uint8_t e, const uint8_t *p, size_t avail);

	/* addresses next_request() accepts (all others: BMS_E_RANGE); NULL:
	 * the protocol has none, next_request() never fails */
	bool (*addr_ok)(uint8_t a);
	/* next_request() may also fail with BMS_E_KEY: the advertised name
	 * gives no key (a device of a type the driver does not read) */
	bool key_from_name;
	/* a request is well-formed (the generic part: it is never a frame) */
	void (*request)(const struct fd *s, const uint8_t *req, int n);
	/* over Bluetooth LE nothing echoes a request: it may have a frame's
	 * shape (the generic check off; request() checks its shape) */
	bool no_echo;

	/* the snapshot after every handle() and finish() */
	uint8_t max_cells, max_temps, max_raw, max_state;
	uint32_t never;         /* BMS_HAS_* the protocol never reports */
	void (*snap)(const struct fd *s, const struct bms_snapshot *sn);

	/* scan(): a frame it reports (before handle()), and NEED */
	void (*frame)(const struct fd *s, const uint8_t *f, size_t n);
	void (*need)(const struct fd *s);
	/* handle(): the results possible on a frame scan() accepted (FD_RC()
	 * set), what BMS_OK does to the step (any other result keeps it) */
	uint32_t rcs;
	enum fd_step step;
	bool unexpected_keeps_snap; /* BMS_E_UNEXPECTED leaves the snapshot alone */
	void (*handled)(const struct fd *s, int rc, size_t n);

	/* a sample finish() accepts: BMS_HAS_* it always has (with
	 * BMS_HAS_CELLS: ncells > 0), voltage > 0, how a forced cell count
	 * shows (ncells == min(forced, max_cells), or at most forced), and
	 * no balance bit beyond the cells */
	uint32_t ok_has;
	bool ok_volts;
	bool forced_at_most;
	void (*ok)(const struct fd *s, const struct bms_snapshot *sn);
};

struct fd {
	const struct fd_target *t;
	const struct bms_driver *drv;
	struct bms_poll poll;
	struct bms_rx rx;
	uint8_t address, cells_forced;
	bool invert;
	bool setpoints;
	bool refresh;
	bool settings_due; /* poll.settings_due of every poll */
	bool keep_rx; /* listen-only: keep the rx buffer between polls */
	uint32_t persist0; /* poll.persist as the input set it */
	uint8_t link; /* enum bms_link of every poll */
	uint8_t ble_layout; /* poll.ble_layout of every poll (a target's config() sets it) */
	const char *peer_name; /* poll.peer_name of every poll (NULL: "") */
	const char *pin; /* poll.pin of every poll (NULL: none; a target's config() sets it) */
	int sent_run;    /* writes in a row that sent() said nothing answers */
	bool fresh;   /* the next poll is the first since the link was opened */
	bool have_key; /* the pack's key (victron-ble), copied into every poll */
	uint8_t key[16];
	int retries;
	bool need_request;
	bool done;
	struct bms_frame_counts fc; /* what the framing loop of the current read() counted */
	uint8_t req[64]; /* the outstanding request */
	int req_len;
	/* a target's config() may set these for every poll */
	bool address_any;
	uint8_t position;  /* struct bms_poll.position */
	bool group;        /* with a group of BMS_MAX_GROUP records */
	struct bms_snapshot grp[BMS_MAX_GROUP];
};

static void fd_check_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	const struct fd_target *t = s->t;

	REQUIRE(sn->ncells <= t->max_cells);
	/* a kept cell count is one a poll could use */
	REQUIRE(!(s->poll.kept.have & BMS_HAS_CELLS) || s->poll.kept.ncells <= BMS_MAX_CELLS);
	REQUIRE(sn->ntemps <= t->max_temps);
	REQUIRE(sn->nraw <= t->max_raw);
	REQUIRE(sn->state <= t->max_state);
	REQUIRE((sn->alarms >> BMS_AL_COUNT) == 0);
	REQUIRE(!(sn->present & t->never));
	REQUIRE(!(sn->present & ~t->drv->provides & (BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS)));
	/* limits a BMS reports are usable caps: currents >= 0, a charge voltage
	 * limit above the discharge one; kept ones likewise */
	/* (a direction the BMS gives no limit for is NAN; so is a discharge
	 * voltage limit the BMS does not send beside its charge one) */
	if (sn->present & BMS_HAS_CUR_LIMITS)
		REQUIRE((isnan(sn->bms_ccl_a) || (sn->bms_ccl_a >= 0.0f && sn->bms_ccl_a <= 3276.8f)) &&
			(isnan(sn->bms_dcl_a) || (sn->bms_dcl_a >= 0.0f && sn->bms_dcl_a <= 3276.8f)));
	if (sn->present & BMS_HAS_VOLT_LIMITS)
		REQUIRE(sn->bms_cvl_v > 0.0f &&
			(isnan(sn->bms_dvl_v) || (sn->bms_dvl_v > 0.0f && sn->bms_cvl_v > sn->bms_dvl_v)));
	if (s->poll.kept.have & BMS_HAS_CUR_LIMITS)
		REQUIRE(s->poll.kept.ccl_a >= 0.0f && s->poll.kept.dcl_a >= 0.0f);
	/* a BMS's own highest and lowest cell come as a pair of values; its
	 * temperature extremes are readings or absent (bms_set_*_ext()) */
	REQUIRE(!(sn->present & ~t->drv->provides & (BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT)));
	if (sn->present & BMS_HAS_CELL_EXT)
		REQUIRE(sn->ext_max_mv && sn->ext_min_mv);
	if (sn->present & BMS_HAS_TEMP_EXT)
		REQUIRE((isfinite(sn->ext_tmax_c) || isfinite(sn->ext_tmin_c)) &&
			(isnan(sn->ext_tmax_c) || (sn->ext_tmax_c >= -50.0f && sn->ext_tmax_c <= 150.0f)) &&
			(isnan(sn->ext_tmin_c) || (sn->ext_tmin_c >= -50.0f && sn->ext_tmin_c <= 150.0f)));
	if (t->snap)
		t->snap(s, sn);
}

/* The settings a driver read only in polls marked due shows: only keys
 * it announces, none outside a due poll, each finite, a temperature
 * within t_lo .. t_hi degC and any other value within lo .. hi. */
static inline void fd_check_due_settings(const struct fd *s, float t_lo, float t_hi, float lo, float hi)
{
	const struct bms_settings *st = &s->poll.kept.settings;
	REQUIRE((st->have & ~s->drv->settings) == 0);
	REQUIRE(s->settings_due || st->have == 0);
	for (unsigned k = 0; k < BMS_SET_COUNT; k++) {
		if (!bms_settings_has(st, (enum bms_set_key)k))
			continue;
		float v = st->v[k];
		REQUIRE(isfinite(v));
		if (strcmp(bms_settings_unit((enum bms_set_key)k), "°C") == 0)
			REQUIRE(v >= t_lo && v <= t_hi);
		else
			REQUIRE(v >= lo && v <= hi);
	}
}

static void fd_begin(struct fd *s)
{
	bms_poll_begin(&s->poll, s->address, s->cells_forced, s->invert);
	s->poll.setpoints = s->setpoints;
	s->poll.refresh = s->refresh;
	s->poll.settings_due = s->settings_due;
	/* the transport, as the gateway sets it after bms_poll_begin() */
	s->poll.link = s->link;
	s->poll.link_fresh = s->fresh;
	s->poll.ble_layout = s->ble_layout;
	s->fresh = false;
	if (s->peer_name)
		snprintf(s->poll.peer_name, sizeof(s->poll.peer_name), "%s", s->peer_name);
	s->poll.have_key = s->have_key;
	memcpy(s->poll.key, s->key, sizeof(s->poll.key));
	if (s->pin)
		snprintf(s->poll.pin, sizeof(s->poll.pin), "%s", s->pin);
	s->poll.address_any = s->address_any;
	s->poll.position = s->position;
	if (s->group) {
		memset(s->grp, 0xA5, sizeof(s->grp)); /* what a poll does not write stays unused */
		s->poll.group = s->grp;
		s->poll.group_cap = BMS_MAX_GROUP;
	}
	/* the first poll of a connection takes what came since it was made */
	if (!s->keep_rx && !(s->drv->keep_rx && s->poll.link_fresh))
		bms_rx_clear(&s->rx);
	s->need_request = !s->drv->listen_only;
}

static void fd_finish(struct fd *s);
static void fd_kept(struct fd *s);

/* A try of the current step failed (timeout or bad answer). */
static void fd_fail_step(struct fd *s)
{
	if (s->drv->timeout && s->drv->timeout(&s->poll)) {
		s->poll.attempt = 0; /* complete anyway */
		if (s->drv->listen_only)
			fd_finish(s); /* as the poller: the poll is whole */
		else
			s->need_request = true;
		return;
	}
	if (s->drv->keep_rx) /* what was kept belongs to the failed try */
		bms_rx_clear(&s->rx);
	if (s->poll.attempt < s->retries) {
		s->poll.attempt++;
		s->need_request = !s->drv->listen_only;
		return;
	}
	fd_begin(s); /* the poll failed: next poll */
}

/* The last step is done: finish() and the next poll. */
static void fd_finish(struct fd *s)
{
	const struct fd_target *t = s->t;
	const struct bms_snapshot *sn = &s->poll.snap;
	int rc = s->drv->finish ? s->drv->finish(&s->poll) : BMS_OK;

	REQUIRE(rc == BMS_OK || rc == BMS_E_INVALID);
	fd_check_snap(s, sn);
	if (rc == BMS_OK) {
		REQUIRE((sn->present & t->ok_has) == t->ok_has);
		if (t->ok_has & BMS_HAS_CELLS)
			REQUIRE(sn->ncells > 0);
		if (t->ok_volts)
			REQUIRE(sn->voltage > 0);
		if (s->cells_forced && t->forced_at_most)
			REQUIRE(sn->ncells <= s->cells_forced);
		else if (s->cells_forced) {
			/* the target's bound, or the driver's own when lower (a low-voltage one's 32) */
			unsigned most = bms_max_cells(s->drv) < t->max_cells ? bms_max_cells(s->drv) : t->max_cells;
			REQUIRE(sn->ncells == (s->cells_forced < most ? s->cells_forced : most));
		}
		if (sn->ncells < 32)
			REQUIRE((sn->balance >> sn->ncells) == 0);
		if (t->ok)
			t->ok(s, sn);
		/* the other packs of an answer for all: whole, valid snapshots */
		REQUIRE(s->poll.group_have >> BMS_MAX_GROUP == 0);
		REQUIRE(s->poll.group_have == 0 || (s->group && s->position));
		for (unsigned k = 0; k < BMS_MAX_GROUP; k++) {
			if (!(s->poll.group_have & (1u << k)))
				continue;
			REQUIRE(k + 1u != s->position);
			fd_check_snap(s, &s->grp[k]);
			REQUIRE(s->grp[k].ncells > 0 && s->grp[k].voltage > 0);
			fuzz_served(&s->grp[k]);
		}
		bms_snapshot_derive(&s->poll.snap);
		fuzz_served(&s->poll.snap);
	}
	fd_begin(s);
}

/* The current step sends nothing: the BMS talks by itself. */
static bool fd_listens(const struct fd *s)
{
	return s->drv->listen_only || (s->drv->listens && s->drv->listens(&s->poll));
}

/* Send the next request (or finish the poll); a step that listens sends
 * nothing and waits from a clean buffer. */
static void fd_request(struct fd *s)
{
	const struct fd_target *t = s->t;
	uint8_t req[64];

	if (fd_listens(s)) {
		REQUIRE(!s->drv->listen_only); /* never asked for a request */
		s->need_request = false;
		s->req_len = 0;
		s->sent_run = 0;
		if (!s->drv->keep_rx)
			bms_rx_clear(&s->rx);
		fd_kept(s);
		return;
	}
	s->poll.secret_req = false;
	int n = s->drv->next_request(&s->poll, req, sizeof(req));

	s->need_request = false;
	if (!s->drv->keep_rx)
		bms_rx_clear(&s->rx); /* drain before each request */
	if (n == BMS_E_AUTH) { /* the PIN judged refused on an earlier try: the poll fails */
		REQUIRE(s->poll.pin[0]);
		fd_begin(s);
		return;
	}
	if (n < 0) {
		REQUIRE((t->addr_ok && n == BMS_E_RANGE && !t->addr_ok(s->address)) ||
			(t->key_from_name && n == BMS_E_KEY));
		s->done = true; /* nothing more can happen with this address */
		return;
	}
	if (t->addr_ok)
		REQUIRE(t->addr_ok(s->address));
	if (n == 0) {
		fd_finish(s);
		return;
	}
	REQUIRE((size_t)n <= sizeof(req));
	if (t->request)
		t->request(s, req, n);
	memcpy(s->req, req, (size_t)n);
	s->req_len = n;
	/* the echo of our own request is never a frame; a CAN request is a
	 * record like the answers (the bus echoes nothing), and no answer */
	size_t en = 0;
	if (s->drv->can) {
		struct bms_poll copy = s->poll;
		REQUIRE(s->drv->scan(&s->poll, req, (size_t)n, &en) == BMS_SCAN_FRAME && en == (size_t)n);
		REQUIRE(s->drv->handle(&copy, req, (size_t)n) == BMS_E_UNEXPECTED);
	} else if (!t->no_echo) {
		REQUIRE(s->drv->scan(&s->poll, req, (size_t)n, &en) == BMS_SCAN_SKIP && en == (size_t)n);
	}
	if (s->drv->sent && s->drv->sent(&s->poll)) {
		REQUIRE(++s->sent_run < 64); /* a write nothing answers: the next step at once */
		s->poll.attempt = 0;
		s->need_request = true;
		return;
	}
	s->sent_run = 0;
	fd_kept(s);
}

/* A frame the daemon's framing loop (bms_frames()) found: the target's
 * frame check, handle(), its checks; on to the next frame, or stop when
 * the step moved on (a request is due). */
static enum bms_frame_next fd_take(void *ctx, const uint8_t *f, size_t fl)
{
	struct fd *s = ctx;
	const struct fd_target *t = s->t;

	REQUIRE(s->fc.bad_scan == 0); /* every length scan() gave was one of the bytes */
	if (t->frame)
		t->frame(s, f, fl);
	int step = s->poll.step;
	const struct bms_snapshot before = s->poll.snap;
	int rc = s->drv->handle(&s->poll, f, fl);
	fd_check_snap(s, &s->poll.snap);
	REQUIRE(rc >= BMS_E_AUTH && rc <= BMS_MORE);
	REQUIRE(t->rcs & FD_RC(rc));
	if (t->handled)
		t->handled(s, rc, fl);
	if (rc != BMS_OK && t->step != FD_STEP_ANY)
		REQUIRE(s->poll.step == step);
	else if (t->step == FD_STEP_NEXT)
		REQUIRE(s->poll.step == step + 1);
	else if (t->step == FD_STEP_ON)
		REQUIRE(s->poll.step > step);
	else if (t->step == FD_STEP_ON_OR_SAME)
		REQUIRE(s->poll.step >= step);
	/* a frame that is not used leaves the snapshot alone */
	if (rc == BMS_E_UNEXPECTED && t->unexpected_keeps_snap)
		REQUIRE(memcmp(&before, &s->poll.snap, sizeof(before)) == 0);
	if (rc == BMS_MORE || rc == BMS_E_UNEXPECTED)
		return BMS_FRAME_MORE;
	if (rc == BMS_OK) {
		s->poll.attempt = 0;
		if (s->drv->listen_only) {
			fd_finish(s);
			return BMS_FRAME_MORE; /* the next poll: a listen-only wire keeps talking */
		}
		s->need_request = true;
		return BMS_FRAME_STOP;
	}
	fd_fail_step(s); /* a bad answer counts as a failed try */
	return s->drv->listen_only ? BMS_FRAME_MORE : BMS_FRAME_STOP;
}

/* n bytes arrive as one read(): the daemon's framing loop until NEED or a
 * step moved on. */
static void fd_frame(struct fd *s)
{
	const struct fd_target *t = s->t;

	memset(&s->fc, 0, sizeof(s->fc));
	bool stopped = bms_frames(s->drv, &s->poll, &s->rx, fd_take, s, &s->fc);
	REQUIRE(s->fc.bad_scan == 0);
	if (!stopped && t->need)
		t->need(s);
}

static void fd_bytes(struct fd *s, const uint8_t *p, size_t n)
{
	bms_rx_feed(&s->rx, p, n);
	REQUIRE(s->rx.len <= BMS_RX_CAP);
	fd_frame(s);
}

/* A step of a keep_rx driver begins on what was kept: framed at once. */
static void fd_kept(struct fd *s)
{
	if (s->drv->keep_rx && s->rx.len)
		fd_frame(s);
}

/* event() of a Bluetooth LE target: what E says before the target's own
 * frame.  E == 0xFE a reconnection (the next poll is link_fresh: 0 bytes
 * used), E other than 0xFF not the target's (FD_NOT_MINE), E == 0xFF with
 * fewer than two bytes after it: all of them used; else FD_SYNTH, the
 * target synthesises its frame from the bytes that follow. */
#define FD_SYNTH ((size_t)-2)
static inline size_t fd_ble_event(struct fd *s, uint8_t e, size_t avail)
{
	if (e == 0xFE) {
		s->fresh = true;
		return 0;
	}
	if (e != 0xFF)
		return FD_NOT_MINE;
	return avail < 2 ? avail : FD_SYNTH;
}

/* The usual configuration bytes (see the top). */
static size_t fd_config(struct fd *s, const uint8_t *d, size_t size)
{
	const struct fd_target *t = s->t;
	size_t k = 0;

	if (size < (t->addr_mask ? 3u : 2u))
		return 0;
	if (t->addr_mask)
		s->address = d[k++] & t->addr_mask;
	s->cells_forced = (d[k] & 0x40) ? (d[k] & 0x3f) : 0;
	k++;
	s->invert = d[k] & 1;
	if (t->persist_bit)
		s->poll.persist = (d[k] & 2) ? 1 : 0;
	s->retries = (d[k] >> 2) & 3;
	s->setpoints = (d[k] & 0x10) != 0;
	s->refresh = (d[k] & 0x20) != 0;
	s->link = (d[k] & 0x40) ? BMS_LINK_BLE : BMS_LINK_WIRE;
	s->fresh = s->link == BMS_LINK_BLE;
	s->settings_due = (d[k] & 0x80) != 0;
	return k + 1;
}

/* The three configuration bytes of the rack-battery targets
 * (fuzz_paceic.h, fuzz_mbtable.h): the address (any byte), bit 6 + cells
 * forced, then bit 0 invert_current, bits 2..3 retries, bit 5 refresh on
 * every poll, bit 6 the first poll is the first of a new link, bit 7
 * address_any. */
static inline void fd_rack_config(struct fd *s, const uint8_t *d)
{
	s->address = d[0];
	s->cells_forced = (d[1] & 0x40) ? (d[1] & 0x3f) : 0;
	s->invert = d[2] & 1;
	s->retries = (d[2] >> 2) & 3;
	s->refresh = (d[2] & 0x20) != 0;
	s->fresh = (d[2] & 0x40) != 0;
	s->address_any = (d[2] & 0x80) != 0;
}

/* One run: polls after polls until the input is used up. */
static int fd_run(const struct fd_target *t, const uint8_t *data, size_t size)
{
	static struct fd s; /* large (rx buffer): keep it off the stack */

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.drv = t->drv;
	size_t off = t->config ? t->config(&s, data, size) : fd_config(&s, data, size);
	if (off == 0)
		return 0;
	s.persist0 = s.poll.persist;
	bms_rx_clear(&s.rx);
	fd_begin(&s);

	while (!s.done) {
		if (s.need_request) {
			fd_request(&s);
			continue;
		}
		if (off >= size)
			break;
		uint8_t e = data[off++];
		if (e == 0) {
			fd_fail_step(&s);
			continue;
		}
		if (t->event) {
			size_t used = t->event(&s, e, data + off, size - off);
			if (used != FD_NOT_MINE) {
				off += used;
				continue;
			}
		}
		size_t l = e;
		if (l > size - off)
			l = size - off;
		fd_bytes(&s, data + off, l);
		off += l;
	}
	return 0;
}

/* The events of a Bluetooth target whose frames are <head> <cmd> <len>
 * <data>, then its own end (fd_ble_event's, then): E == 0xFF a synthesised frame in f[0..FD_SYNTH_MAX): head,
 * cmds[K % ncmds] (K the next input byte), the length L (the byte after),
 * then L data bytes from the input, zero-padded, at f[3..].  The input
 * bytes used, FD_NOT_MINE for another E; *made when f holds a frame, for
 * the target to close (its end bytes, its sum at f[3 + L]) and hand over
 * with fd_bytes(). */
#define FD_SYNTH_MAX (3 + 255 + 4)
static inline size_t fd_synth_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail, uint8_t *f,
				    uint8_t head, const uint8_t *cmds, size_t ncmds, bool *made)
{
	size_t used = 0;
	*made = false;
	size_t r = fd_ble_event(s, e, avail);
	if (r != FD_SYNTH)
		return r;
	memset(f, 0, FD_SYNTH_MAX);
	f[0] = head;
	f[1] = cmds[p[used++] % ncmds];
	f[2] = p[used++];
	for (size_t i = 0; i < f[2] && used < avail; i++)
		f[3 + i] = p[used++];
	*made = true;
	return used;
}

/* CRC-16/MODBUS, the harness's own. */
static inline uint16_t fd_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* CRC-16/XMODEM, the harness's own. */
static inline uint16_t fd_crc16_xmodem(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

/* The requests of Seplos V2 over Bluetooth LE (its module's binary 0x61,
 * fuzz_seplos_ble.c and fuzz_seplos.c with the link bit): 7E 10 adr 46 61
 * 0001 adr CRC-16/XMODEM 0D, and 0x47 of the same form (the settings)
 * only in a poll marked settings_due; nothing else. */
static inline void fd_check_seplos61(const struct fd *s, const uint8_t *req, int n)
{
	uint8_t address = s->address;
	REQUIRE(n == 11 && req[0] == 0x7E && req[1] == 0x10 && req[2] == address && req[3] == 0x46);
	REQUIRE(req[4] == 0x61 || (req[4] == 0x47 && s->poll.settings_due));
	REQUIRE(req[5] == 0 && req[6] == 1 && req[7] == address && req[10] == 0x0D);
	REQUIRE(fd_crc16_xmodem(req + 1, 7) == (uint16_t)(req[8] << 8 | req[9]));
}

#endif
