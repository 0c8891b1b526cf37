/* SPDX-License-Identifier: MIT */
/* gateway/poll/bmsset.h - changing a BMS's own settings, safely (a pack's
 * `bms_settings`, bmsgw-bms(7) BMS SETTINGS).
 *
 * A change (from the HTTP API or MQTT; never Modbus) is checked: the key
 * among the pack's bms_settings, its value within the protocol's range and
 * the pack's chemistry and in order with the others (engine/setbounds.h),
 * the pack fresh, its wire up and not lent, no other command of the pack
 * running or ended under a second ago.  Then it goes through MOSFET
 * control's fence (control.h, struct gw_ctl_ops): queued ahead of the next
 * poll step, the family's steps (bms/setwrite.h: unlock, write, the
 * protocol's own acknowledgement, a fresh read-back of the same field),
 * a frame sent again only when no answer at all came, at most the pack's
 * retries; done only when the read-back equals what was asked.  A value
 * the BMS holds already is answered done with nothing sent; a pack takes
 * at most bms_settings_per_day changes that reach it in any 24 hours
 * (engine/wbudget.h; 429 beyond).  Nothing is sent at start, reload or
 * reconnect; a reload that no longer allows a change on the wire, or a
 * stop, gives it up, its unlock left and nothing saved.  Each change is one log line (old ->
 * new, who, the outcome) and a count by result (/metrics
 * bmsgw_pack_bms_settings_total); refusals are folded per source.
 */
#ifndef GATEWAY_POLL_BMSSET_H
#define GATEWAY_POLL_BMSSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bms/setwrite.h"

struct gw;
struct gw_pack;
struct gw_ctl;

/* A pack's counts (bmsset.c alone), made with the pack by the plan; NULL
 * when out of memory; free: NULL is fine. */
struct gw_pack_bset;
struct gw_pack_bset *gw_bset_new(void);
void gw_bset_free(struct gw_pack_bset *b);
/* The changes of p done, failed at the BMS, refused before anything was sent. */
void gw_bset_counts(const struct gw_pack *p, uint32_t *done, uint32_t *failed, uint32_t *refused);

/* The outcome of a change (the HTTP answer's, MQTT's result). */
struct gw_bset_result {
	int status;                     /* 200 done; 403, 404, 409, 422, 503 refused; 502 failed
	                                 * (400 is the caller's: no such request) */
	const char *result;             /* "done", "refused", "failed" */
	char key[32];
	double requested;
	bool has_old, has_value;
	double old;                     /* what the BMS held before */
	double value;                   /* the read-back (or what the BMS last reported) */
	bool confirmed;                 /* read back equal */
	long retry_after;               /* 429: seconds until the write budget takes one more */
	char message[320];              /* why, for people; "" when done (a no-op: that nothing was sent) */
};
typedef void (*gw_bset_done)(void *ctx, const struct gw_bset_result *r);

/* A change of pack p's key (its name) to value (bms_wvalue_*()'s), asked
 * by who ("admin ada (https 192.168.1.5)", "mqtt").  0 when queued:
 * done(ctx, result) comes later, once, unless cancelled
 * (gw_bset_cancel(handle)); else the answer's status with *r filled (done
 * is not called): 200 done at once when the BMS holds the value already
 * (nothing is sent), or a refusal's (429: the pack's write budget,
 * bms_settings_per_day, is spent; r->retry_after says for how long). */
int gw_bset_submit(struct gw *gw, struct gw_pack *p, const char *key, double value, const char *who,
		   gw_bset_done done, void *ctx, struct gw_ctl **handle, struct gw_bset_result *r);
/* The requester is gone: the change goes on, its result is only logged;
 * the ctx it was submitted with is returned (the requester's to free). */
void *gw_bset_cancel(struct gw_ctl **handle);
/* A refusal the caller made itself (404, 400 ...), logged and counted as
 * the others (p may be NULL: logged only). */
void gw_bset_refused(struct gw_pack *p, const char *who, const char *what, int status, const char *why);

/* What a pack's key is now, for GET /api/bms-settings and discovery. */
struct gw_bset_info {
	bool has_value;
	double value;                   /* what the BMS last reported (soc: the pack's) */
	double min, max, step;          /* the effective bounds (engine/setbounds.h) */
	const char *unit;
};
/* false when p does not allow k. */
bool gw_bset_info(const struct gw_pack *p, enum bms_wkey k, struct gw_bset_info *out);
/* A command of p (a change or a MOSFET switch) runs. */
bool gw_bset_busy(const struct gw_pack *p);

/* The state file's record of each pack's write budget (model/statefile.h). */
struct gw_state_record;
extern const struct gw_state_record gw_bset_budget_record;

#endif
