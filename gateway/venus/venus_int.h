/* SPDX-License-Identifier: MIT */
/* gateway/venus/venus_int.h - what the files of the Venus OS output share.
 *
 * venus.c        its row of the service table: the units (each pack with
 *                venus = true, the bank), when each goes on the bus, what a
 *                poll, a tick and a pack going stale do; /api/state, /metrics
 * venus_conn.c   one sd-bus connection on the daemon's loop (a service's,
 *                or the output's own to com.victronenergy.settings): its fd
 *                and timeout as libev watchers, its end noticed
 * venus_item.c   a unit's items (path, value, text) and the
 *                com.victronenergy.BusItem interface on its connection:
 *                GetValue, GetText, SetValue, GetItems; PropertiesChanged
 *                and ItemsChanged
 * venus_paths.c  a unit's values from the model, path by path (what
 *                dbus-serialbattery publishes), into its items
 * venus_claim.c  the DeviceInstance of each unit claimed from
 *                com.victronenergy.settings (its ClassAndVrmInstance) and
 *                its CustomName there; the state file's record of the
 *                instances
 *
 * One connection per service, as velib_python's VeDbusService has: a
 * Victron client (dbusmonitor) knows a service by its connection's unique
 * name, which signals carry, so two services on one connection would be
 * one to it.
 */
#ifndef GATEWAY_VENUS_VENUS_INT_H
#define GATEWAY_VENUS_VENUS_INT_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../conf/conf.h"
#include "../core/retry.h"
#include "venus_conf.h"

struct gw;
struct gw_pack;

/* sd-bus's (systemd's sd-bus header, which the files that call it include) */
typedef struct sd_bus sd_bus;
typedef struct sd_bus_slot sd_bus_slot;

#define VN_PATH_MAX 48                 /* "/System/NrOfModulesBlockingDischarge" */
#define VN_TEXT_MAX 128
#define VN_IFACE "com.victronenergy.BusItem"
#define VN_PRODUCT_ID 0xFFFF           /* /ProductId: none of Victron's (a third party's driver) */

/* ------------------------------------------------------------ venus_conn.c */

/* One connection to the bus: the owner hears of its end (dead) through
 * its callback; nothing of it blocks. */
struct vn_conn {
	struct ev_loop *loop;
	sd_bus *bus;                   /* NULL: closed */
	ev_io io;
	ev_timer timer;
	ev_prepare prep;
	bool processing, dead, closing; /* closing: its owner closed it inside sd_bus_process() */
	void (*gone)(struct vn_conn *c, const char *why); /* the bus closed it */
	void *owner;
};

/* Open c on address ("system", or a D-Bus address) on loop: 0, or a
 * negative errno with nothing open. */
int vn_conn_open(struct vn_conn *c, struct ev_loop *loop, const char *address);
/* Close it (what was queued flushed to the local daemon); closed is fine. */
void vn_conn_close(struct vn_conn *c);

/* ------------------------------------------------------------ venus_item.c */

enum vn_kind { VN_INVALID, VN_INT, VN_DOUBLE, VN_STRING };

struct vn_item {
	char path[VN_PATH_MAX];
	enum vn_kind kind;
	int32_t i;
	double d;
	char s[VN_TEXT_MAX];           /* VN_STRING's value */
	char text[VN_TEXT_MAX];        /* GetText: "53.20V"; "---" when invalid */
	bool changed;                  /* since the last signals */
	bool writable;                 /* SetValue may change it (/CustomName) */
	uint32_t round;                /* the last build that set it */
};

/* One service: a pack's or the bank's. */
struct vn_unit {
	struct vn_out *out;
	char pack[CONF_NAME_MAX];      /* "" = the bank */
	char word[CONF_NAME_MAX + 8];  /* bmsgw_NAME: the service's last element, the settings' group */
	char service[VENUS_SERVICE_MAX]; /* com.victronenergy.battery.bmsgw_NAME */
	struct vn_conn conn;
	sd_bus_slot *object;           /* the BusItem handler on every path */
	sd_bus_slot *name_call;        /* RequestName in flight */
	bool named;                    /* it owns its name: on the bus */
	bool had_data;                 /* it had data once (it joins the bus from then on) */
	double joined;                 /* monotonic time it took its name, 0 = never */
	unsigned long joins;           /* names taken (a rejoin counts) */
	int instance;                  /* its DeviceInstance, -1 = not known yet */
	char custom[VN_TEXT_MAX];      /* its CustomName in the settings ("" = none) */
	struct vn_item *items;
	int nitems, cap, cursor;
	uint32_t round;
	unsigned long signals;         /* PropertiesChanged and ItemsChanged sent */
	unsigned long refused;         /* SetValue refused */
	/* a SetValue of /CustomName: v asked of the settings service
	 * (venus_claim.c vn_claim_set_name, set by venus.c); false: refused */
	bool (*set_name)(struct vn_unit *u, const char *v);
	bool stale_said;               /* its /Connected 0 was logged */
};

/* Set path's value for this build of u (the same order each build finds
 * it at once); a path not set by a build is made invalid by vn_items_end.
 * A double's text has prec decimals and its unit ("53.20V"), an int's is
 * its number (/ProductId's in hex, as VeDbusItemExport.GetText has it). */
void vn_put_int(struct vn_unit *u, const char *path, long v);
void vn_put_double(struct vn_unit *u, const char *path, double v, int prec, const char *unit); /* NaN: invalid */
void vn_put_string(struct vn_unit *u, const char *path, const char *v);
void vn_put_invalid(struct vn_unit *u, const char *path);
/* A build starts; it ends: what it did not set is invalid. */
void vn_items_begin(struct vn_unit *u);
void vn_items_end(struct vn_unit *u);
/* The item at path, or NULL. */
struct vn_item *vn_item_find(const struct vn_unit *u, const char *path);
/* Mark path writable (SetValue may change it through set()). */
void vn_item_writable(struct vn_unit *u, const char *path);
/* Send the changed items: a PropertiesChanged on each path, then one
 * ItemsChanged on / with all of them (nothing while the unit is off the
 * bus: GetItems gives them when it is scanned).  The number sent. */
int vn_items_signal(struct vn_unit *u);
/* The BusItem interface on u's connection (every path, /, and each node
 * between): 0 or a negative errno. */
int vn_items_serve(struct vn_unit *u);
void vn_items_free(struct vn_unit *u);

/* ------------------------------------------------------------ venus_paths.c */

/* Build u's items from the model at monotonic time now. */
void vn_paths_build(struct vn_unit *u, const struct gw *gw, double now);
/* Whether u has data to go on the bus with at now (a pack's first good
 * poll, a bank with a fresh member) and whether it is fresh now. */
bool vn_unit_fresh(const struct vn_unit *u, const struct gw *gw, double now);

/* ------------------------------------------------------------ venus_claim.c */

/* The output's own connection: the DeviceInstances and CustomNames of
 * every unit asked of com.victronenergy.settings (AddSettings, which keeps
 * an instance a device had and gives a new one the next free); their
 * changes there followed.  Until its answer, or without the settings
 * service, each unit's instance is the one the state file kept, else 0
 * for the bank and one up for each pack in the configuration's order. */
void vn_claim_start(struct vn_out *o);
void vn_claim_stop(struct vn_out *o);
/* The instance kept for the unit of this word (the state file), -1 = none;
 * and the instance a unit now has, kept. */
int vn_kept_instance(const char *word);
void vn_keep_instance(struct gw *gw, const char *word, int instance);
/* SetValue of /CustomName of u: v asked of the settings service, and shown
 * at once (o->update); false when it cannot be sent (no settings service). */
bool vn_claim_set_name(struct vn_unit *u, const char *v);

/* ------------------------------------------------------------ venus.c */

struct vn_out {
	struct gw *gw;
	struct conf_venus cfg;         /* its copy of the section */
	struct vn_unit *units[CONF_MAX_PACKS + 1];
	int nunits;
	struct vn_conn ctl;            /* the settings' connection */
	sd_bus_slot *claim_call, *claim_watch, *owner_watch;
	bool claimed;                  /* the settings answered (or are not there) */
	bool settings_there;           /* com.victronenergy.settings answered */
	ev_timer retry;                /* the bus away: the next try */
	struct gw_retry rt;
	ev_timer stale;                /* the next moment a unit goes stale */
	bool down;                     /* the bus is away */
	double down_since;
	double last_rejoin_s;          /* the last outage's length until every unit was back, -1 none */
	unsigned long outages;
	/* what the claim tells venus.c (set by it, so that venus_claim.c names
	 * none of venus.c's functions): a unit's instance changed while on the
	 * bus (it joins again), the claim ended (the units with data join), a
	 * unit's name changed (built and sent) */
	void (*rejoin)(struct vn_unit *u);
	void (*on_claimed)(struct vn_out *o);
	void (*update)(struct vn_unit *u);
};

/* A connection of o died: every connection closed, the bus tried again. */
void vn_bus_lost(struct vn_out *o, const char *why);

#endif
