/* gateway/poll/control.h - switching a pack's MOSFETs, safely.
 *
 * A command (from a Modbus client or MQTT) is checked, queued on the pack's
 * wire ahead of the next poll step, sent, acknowledged by the BMS, then
 * confirmed by a fresh poll of the pack; only then is it reported done.
 * Everything else ends in a Modbus exception code (README.md "MOSFET
 * control"):
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

/* Check a command and queue it: set[f] = switch FET f (enum bms_fet) to
 * on[f].  Returns 0 when queued (done is called later, once, unless the
 * requester cancels), or the exception code with why filled in (done is
 * not called).  `who` names the requester in the log. */
int gw_control_submit(struct gw *gw, struct gw_pack *p, const bool set[2], const bool on[2], const char *who,
		      gw_ctl_done done, void *ctx, struct gw_ctl **handle, char *why, size_t wl);
/* The requester is gone: the command goes on, its result is only logged. */
void gw_control_cancel(struct gw_ctl **handle);

/* poller.c: a command queued on a pack of wire w, or NULL. */
struct gw_ctl *gw_control_queued(struct gw_bus *w);
/* poller.c: the control transaction of c ended on the wire: acknowledged
 * (exception 0, the read-back comes next) or not (exception, why). */
void gw_control_wire_done(struct gw_ctl *c, int exception, const char *why);
/* The pack and the driver command of c (for the poller). */
struct gw_pack *gw_control_pack(struct gw_ctl *c);
struct bms_control *gw_control_cmd(struct gw_ctl *c);
/* daemon.c: a poll of p finished: the read-back of a command in progress. */
void gw_control_polled(struct gw *gw, struct gw_pack *p, bool ok);
/* A pack is going away (reload, stop): end its command (0x0B). */
void gw_control_drop(struct gw_pack *p);
/* poller.c: a command of p waits for its read-back poll, due at *at (it
 * goes ahead of the other packs' polls). */
bool gw_control_readback_at(const struct gw_pack *p, double *at);
/* End p's command, if any, with this exception. */
void gw_control_end(struct gw_pack *p, int exception, const char *why);

#endif
