/* SPDX-License-Identifier: MIT */
/* gateway/poll/control.h - switching a pack's MOSFETs, safely.
 *
 * A command (from a Modbus client or MQTT) is checked, queued on the pack's
 * wire ahead of the next poll step, sent, acknowledged by the BMS, then
 * confirmed by a fresh poll of the pack; only then is it reported done.
 * Everything else ends in a Modbus exception code (bmsgw(8) "MOSFET
 * CONTROL"):
 *   0x01 not allowed here    0x04 the BMS refused, or the read-back disagrees
 *   0x06 busy (one command per pack per second)    0x0B stale, link down,
 *   no acknowledgement or read-back within control_timeout.
 * Nothing is ever sent at start or on reconnect; every attempt is logged
 * and counted.
 */
#ifndef GATEWAY_POLL_CONTROL_H
#define GATEWAY_POLL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw;
struct gw_pack;
struct gw_bus;
struct gw_ctl;

/* The end of a command: exception 0 = done, else its Modbus exception
 * code; why says what happened (for logs and MQTT results). */
typedef void (*gw_ctl_done)(void *ctx, int exception, const char *why);

/* A pack's control state (control.c alone), made with the pack by the
 * plan: nothing locked intended, no command yet.  NULL when out of
 * memory; free: NULL is fine. */
struct gw_pack_ctl;
struct gw_pack_ctl *gw_control_new(void);
void gw_control_free(struct gw_pack_ctl *pc);
/* The commands of p confirmed by read-back, and those that failed after
 * they were sent: no answer, the BMS said no, the read-back disagreed
 * (registers 123-124, /metrics). */
void gw_control_counts(const struct gw_pack *p, uint32_t *done, uint32_t *failed);
/* The commands for p refused before anything was sent (/metrics). */
uint32_t gw_control_refusals(const struct gw_pack *p);

/* A command for p refused before anything was sent (not allowed, control
 * off, a bad value, stale, busy ...), whoever refused it: logged ("control:
 * WHO: pack NAME: WHAT: refused (exception 0xNN): WHY", once per source
 * and interval, the rest counted on the next line) and counted in
 * gw_control_refusals(), not in register 124, one meaning for every way a
 * command comes.  what names the request (a FET and its state, a Modbus
 * function, an MQTT topic). */
void gw_control_refused(struct gw_pack *p, const char *who, const char *what, int exception, const char *why);

/* Check a command and queue it: set[f] = switch FET f (enum bms_fet) to
 * on[f].  Returns 0 when queued (done is called later, once, unless the
 * requester cancels), or the exception code with why filled in (done is
 * not called; the refusal went through gw_control_refused()).  `who`
 * names the requester in the log. */
int gw_control_submit(struct gw *gw, struct gw_pack *p, const bool set[2], const bool on[2], const char *who,
		      gw_ctl_done done, void *ctx, struct gw_ctl **handle, char *why, size_t wl);
/* Another kind of command through the same fence: a change of a BMS's
 * own setting (bmsset.c).  Its frames, what their answers mean and what
 * its end means are its own (ops); the rest is this file's for both kinds:
 * the queue ahead of the next poll step, one command of either kind per
 * pack and a second between two, the gaps, a frame sent again only when
 * no answer came (the pack's retries), control_timeout, the wire going
 * down or lent, a reload before it was sent, and the requester's callback.
 * Exceptions are the Modbus codes above. */
struct gw_ctl_ops {
	/* The next frame (> 0 its length), 0 when the frames are over, or a
	 * negative BMS_E_* (the command fails). */
	int (*request)(void *arg, uint8_t *out, size_t cap);
	/* A frame while one of its frames waits: BMS_OK (the next frame),
	 * BMS_E_UNEXPECTED (not its answer: waited on), any other result (a
	 * refusal, a bad answer) goes on with request() too: the kind knows
	 * what follows (the frames that leave an unlock, or none). */
	int (*answer)(void *arg, const uint8_t *f, size_t n);
	/* No answer to a frame after the pack's retries (why): true to go on
	 * with request() once more, false to end the command there. */
	bool (*unanswered)(void *arg, const char *why);
	/* The frames are over: the command's exception (0 = done) and why. */
	int (*verdict)(void *arg, char *why, size_t wl);
	/* The command ends (any way): log and count it (sent: a frame of it
	 * went on the wire), before the requester's callback. */
	void (*ended)(void *arg, int exception, const char *why, double took, bool sent);
	/* A reload was applied while the command is on the wire: true when it
	 * may go on under the configuration in force, else false with why
	 * (it is given up: quit()). */
	bool (*allowed)(void *arg, char *why, size_t wl);
	/* Give up (a reload took its leave, the gateway stops): from the next
	 * frame on only those that leave an unlock, never a write or a save;
	 * status is the refusal's (403, 503) should nothing have been written. */
	void (*quit)(void *arg, int status, const char *why);
};
/* The checks every command of a pack passes (stale, wire lent or down,
 * busy): 0, or the exception with why (nothing refused is logged here). */
int gw_control_may(struct gw *gw, struct gw_pack *p, char *why, size_t wl);
/* Queue a command of kind ops on p after gw_control_may() said 0: done
 * and handle as gw_control_submit()'s.  0, or GW_MB_DEVICE_FAILURE (out
 * of memory; ops->ended is not called). */
int gw_control_queue(struct gw *gw, struct gw_pack *p, const struct gw_ctl_ops *ops, void *arg, const char *who,
		     const char *what, gw_ctl_done done, void *ctx, struct gw_ctl **handle);

/* The arg a command of another kind was queued with (NULL for MOSFETs). */
void *gw_control_arg(struct gw_ctl *c);
/* A command of p (of either kind) runs. */
bool gw_control_busy(const struct gw_pack *p);

/* The requester is gone: the command goes on, its result is only logged. */
void gw_control_cancel(struct gw_ctl **handle);

/* The control client of a bus's engine (bus_engine.h): a queued command goes on
 * the wire ahead of the next poll step; the only writer of control frames. */
struct gw_bus_client;
extern const struct gw_bus_client gw_control_client;
/* poller.c: a poll of p (begun at `started`, monotonic) finished, and
 * every output heard of it: the read-back of a command in progress. */
void gw_control_polled(struct gw *gw, struct gw_pack *p, bool ok, double started);
/* A pack is going away (reload, stop): end its command (0x0B). */
void gw_control_drop(struct gw_pack *p);
/* A reload was applied (gw->conf the new one): a command not sent yet ends
 * (0x0B; the allowed clients, control itself may have changed: it is asked
 * again under the new configuration), and one on the wire of a pack whose
 * control is now off ends too, a change of another kind that the new
 * configuration does not allow is given up (ops->allowed, ops->quit: it
 * leaves its unlock, writes and saves nothing more); nothing is sent
 * after a reload. */
void gw_control_reloaded(struct gw *gw);
/* The gateway stops (gw->stopping set: no poll or command starts): a
 * command not sent yet ends (0x0B, nothing sent), a MOSFET command
 * waiting for its read-back ends too, a change of another kind on the wire
 * is given up (ops->quit: the frames that leave an unlock, at once) and a
 * MOSFET frame on the wire waits for its answer.  Returns the commands
 * still on a wire, and in *wait the seconds their frames may take (each
 * pack's timeout times 1 + retries); gw->on_quiet is called when the last
 * of them has ended. */
int gw_control_stop(struct gw *gw, double *wait);
/* poller.c: a command of p was acknowledged and waits for its read-back. */
bool gw_control_verifying(const struct gw_pack *p);
/* poller.c: a command of p waits for its read-back poll, due at *at (it
 * goes ahead of the other packs' polls): a poll begun at `started` is
 * older than its acknowledgement. */
bool gw_control_readback_at(const struct gw_pack *p, double started, double *at);
/* End p's command, if any, with this exception. */
void gw_control_end(struct gw_pack *p, int exception, const char *why);

/* The state file's record of the MOSFET intents (model/statefile.h). */
struct gw_state_record;
extern const struct gw_state_record gw_control_intent_record;

#endif
