/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/ble_int.h - what the files of the Bluetooth LE transport
 * share: BlueZ's names, the mirror of its objects, the state of the client
 * and of one link, and the calls from one file into another.  Not for use
 * outside gateway/wire/ble/.  Built only with libsystemd (HAVE_SYSTEMD).
 *
 *	blecall.c    the method calls on BlueZ, an error's text
 *	blebus.c     sd-bus on the daemon's libev loop: the bus opened and
 *	             closed, the client made and freed
 *	bleprops.c   BlueZ's property dictionaries (a{sv}) read into an object
 *	blemirror.c  the mirror of BlueZ's objects (GetManagedObjects,
 *	             InterfacesAdded/Removed, PropertiesChanged, bluetoothd
 *	             coming and going) and what a change means to the links
 *	bledisc.c    discovery on an adapter, run while a link or a scan wants it
 *	ble.c        one link, the transport gw_transport_ble: the connection
 *	             queue, Connect, the GATT characteristics, notifications,
 *	             writes
 *	blescan.c    bmsgw --ble-scan
 *
 * The users, ble.c and blescan.c, call into blebus.c, blemirror.c and
 * bledisc.c; those report back only through struct ble_users.
 *
 * One client (struct gw_ble) per process, shared by every ble:// link, made
 * when the first one opens.  BlueZ's objects (org.bluez.Adapter1, Device1,
 * GattService1, GattCharacteristic1; bluez doc/org.bluez.*.rst) are
 * mirrored as struct ble_obj.  Anything that goes wrong -- the bus, BlueZ
 * gone, no adapter or one powered off, an unknown device, Connect refused
 * (org.bluez.Error.InProgress ...) or timing out, Connected turning false,
 * the device removed (InterfacesRemoved) -- closes that link with the
 * reason (link.c logs the outage once and retries with its backoff, 1 s
 * doubling to 30 s); its packs go stale as usual and nothing else waits.
 */
#ifndef GATEWAY_WIRE_BLE_BLE_INT_H
#define GATEWAY_WIRE_BLE_BLE_INT_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "ble.h"
#include "../../../bms/bms.h"

#define BLUEZ "org.bluez"
#define IF_ADAPTER "org.bluez.Adapter1"
#define IF_DEVICE "org.bluez.Device1"
#define IF_SERVICE "org.bluez.GattService1"
#define IF_CHAR "org.bluez.GattCharacteristic1"
#define IF_PROPS "org.freedesktop.DBus.Properties"
#define IF_OM "org.freedesktop.DBus.ObjectManager"

#define USEC 1000000ULL
#define CALL_TIMEOUT (10 * USEC)    /* GetManagedObjects, StartNotify, discovery */

/* ------------------------------------------------------------ objects */

enum { OBJ_ADAPTER = 1, OBJ_DEVICE = 2, OBJ_SERVICE = 4, OBJ_CHAR = 8 };
enum { CF_READ = 1, CF_WRITE = 2, CF_WWR = 4, CF_NOTIFY = 8, CF_INDICATE = 16 };

struct ble_mfr {
	uint16_t company;
	uint8_t len;
	uint8_t data[64];
};

/* One BlueZ object, the properties bmsgw uses. */
struct ble_obj {
	struct ble_obj *next;
	struct gw_ble *m;               /* the client that mirrors it */
	char *path;
	unsigned ifs;                   /* OBJ_* */
	/* Adapter1 */
	bool powered;
	/* discovery we run on this adapter */
	bool disc_on, disc_busy;        /* started; a Start/Stop is in flight */
	sd_bus_slot *disc_slot;
	struct gw_ble_link *connecting; /* holds the adapter's connection slot */
	/* Device1 */
	char address[18];
	char name[64];
	bool connected, resolved, paired, have_rssi;
	int rssi;
	bool seen;                      /* --ble-scan: reported during this scan */
	int nuuids;
	char uuids[GW_BLE_MAX_UUIDS][37];
	int nmfr;
	struct ble_mfr mfr[GW_BLE_MAX_MFR];
	int nsdata;
	char sdata[GW_BLE_MAX_SDATA][37]; /* ServiceData's UUIDs, lower case */
	/* GattService1 / GattCharacteristic1 */
	char uuid[37];
	unsigned flags;                 /* CF_* */
	unsigned mtu;
};

/* What a PropertiesChanged or an object's properties said, for the caller. */
struct ble_changes {
	bool connected, resolved, powered, mfr, value, rssi;
	const void *value_p;
	size_t value_n;
};

/* ------------------------------------------------------------ links */

enum ble_state {
	BL_IDLE,        /* closed */
	BL_WAIT,        /* waiting for BlueZ's objects */
	BL_FIND,        /* discovery: BlueZ does not know the device */
	BL_QUEUED,      /* waiting for the adapter: its one connection attempt at a time, and a
	                 * free connection ([ble] max_connections) */
	BL_CONNECTING,  /* Connect() in flight */
	BL_RESOLVING,   /* connected, waiting for ServicesResolved */
	BL_AUTH,        /* the layout's unlock written and read back (struct bms_gatt.auth) */
	BL_NOTIFY,      /* StartNotify() in flight (on notify, then on notify2) */
	BL_UP,          /* notifications flow */
	BL_ADV_START,   /* advertisements: waiting for discovery to run */
	BL_ADV,         /* advertisements flow */
	BL_RELEASING,   /* its connection lent to a link waiting: Disconnect() in flight */
};

struct gw_ble_link {
	struct gw_ble *m;
	struct gw_link *l;
	struct gw_ble_link *next;
	enum ble_state st;
	bool adv;                       /* an advertisement driver: no connection */
	unsigned long queued;           /* order in the adapter's queue */
	char adapter[96];               /* its adapter's path while open */
	char dev[128];                  /* the device's path while known */
	char notify[192], write[192];   /* the characteristics chosen */
	char notify2[192];              /* the layout's second notifier ("": none) */
	char auth[192];                 /* the unlock's characteristic ("": none) */
	bool write_cmd;                 /* WriteValue type "command" */
	/* a layout of channels (struct bms_gatt.more): its more characteristics
	 * (channel k + 1 is more[k]), which of them notify, which take a Write
	 * Command; the next to subscribe; the notifications of the set-up as
	 * their records, the link's first bytes once it is up */
	bool chans;
	int nmore, sub;
	char more[BMS_GATT_MORE_MAX][192];
	bool more_notify[BMS_GATT_MORE_MAX], more_cmd[BMS_GATT_MORE_MAX];
	uint8_t early[512];
	size_t nearly;
	unsigned mtu;
	sd_bus_slot *call;              /* Connect / the unlock / StartNotify / Disconnect in flight */
	sd_bus_slot *wcall;             /* the WriteValue of a request piece in flight (ble->write_piece) */
	ev_timer timer;                 /* find / resolve deadline */
	bool idle;                      /* up, its poll over: its connection may go to a link waiting */
	bool parked;                    /* its wire waits for its turn (gw_link_park) */
	double turn_at;                 /* monotonic start of its last turn */
};

/* Who hears what the mirror and discovery find (blemirror.c, bledisc.c):
 * the links (ble.c) or a scan (blescan.c), through the pointers the maker
 * of the client gave ble_new(), so that those files call down into the
 * mirror and the mirror never calls back up by name.  A NULL member: that
 * user is not there (a scan has no links, a daemon no scan). */
struct ble_users {
	void (*link_fail)(struct gw_ble_link *b, const char *why);  /* close the link with why */
	void (*link_advance)(struct gw_ble_link *b);                /* the mirror changed: go on */
	void (*scan_objects)(struct gw_ble *m);                     /* BlueZ's objects are mirrored */
	void (*scan_fail)(struct gw_ble *m, const char *why);       /* the scan failed */
};

struct gw_ble {
	struct ev_loop *loop;
	const struct ble_users *users;  /* ble.c's or blescan.c's */
	sd_bus *bus;
	ev_io io;
	ev_timer timer;
	ev_prepare prep;
	bool ready;                     /* BlueZ's objects are mirrored */
	bool dead;                      /* the connection failed inside sd_bus_process() */
	char dead_why[160];
	sd_bus_slot *objects_call;      /* GetManagedObjects in flight */
	struct ble_obj *objs;
	struct gw_ble_link *links;
	unsigned long queue_seq;
	bool processing;
	/* --ble-scan */
	const char *scan_adapter;       /* non-NULL while scanning */
	char scan_path[96];
	bool scan_started, scan_failed;
	char scan_error[320];
};

/* ------------------------------------------------------------ blecall.c */

/* An asynchronous method call on BlueZ with its own timeout; without cb, a
 * message that wants no answer.  A negative errno if it was not sent. */
int ble_call(struct gw_ble *m, sd_bus_slot **slot, const char *path, const char *iface, const char *member,
	     sd_bus_message_handler_t cb, void *ud, uint64_t usec, const char *types, ...);
/* "org.bluez.Error.InProgress: Operation already in progress" */
const char *ble_err_text(const sd_bus_error *e, char *buf, size_t cap);

/* ------------------------------------------------------------ blebus.c */

/* A client on loop reporting to users, its bus not open yet; NULL when
 * out of memory. */
struct gw_ble *ble_new(struct ev_loop *loop, const struct ble_users *users);
/* Open the system bus (once), watch BlueZ's signals and ask for its
 * objects; -1 with the reason in why. */
int ble_bus_open(struct gw_ble *m, char *why, size_t wl);

/* ------------------------------------------------------------ bleprops.c */

/* OBJ_* of a BlueZ interface name, 0 for the others. */
unsigned ble_iface_bit(const char *iface);
/* The end of a container read (an entry of a dict, or the dict after its
 * last entry): r when the read failed (r < 0), else the container left
 * (sd_bus_message_exit_container()'s result). */
int ble_exit_read(sd_bus_message *msg, int r);
/* An a{sv} of interface `iface` into o; *ch notes what was in it. */
int ble_read_props(sd_bus_message *msg, struct ble_obj *o, const char *iface, struct ble_changes *ch);

/* ------------------------------------------------------------ blemirror.c */

/* The mirrored object at path, or NULL. */
struct ble_obj *ble_obj_find(struct gw_ble *m, const char *path);
/* Drop the whole mirror. */
void ble_objs_clear(struct gw_ble *m);
/* p is path or below it ("/org/bluez/hci0" holds "/org/bluez/hci0/dev_..."). */
bool ble_under(const char *p, const char *path);
/* The adapter a link uses: the named one, else BlueZ's default. */
struct ble_obj *ble_adapter_find(struct gw_ble *m, const char *name);
/* The device of that address under the adapter at path `adapter`, or NULL. */
struct ble_obj *ble_device_find(struct gw_ble *m, const char *adapter, const char *address);
/* Subscribe to the signals that keep the mirror current (on a new bus). */
int ble_mirror_watch(sd_bus *bus, struct gw_ble *m);
/* GetManagedObjects, unless it is in flight or the mirror is ready. */
void ble_objects_request(struct gw_ble *m);
/* Every open link fails with why, and a scan. */
void ble_fail_all(struct gw_ble *m, const char *why);

/* ------------------------------------------------------------ bledisc.c */

/* Start or stop discovery on adapter ad as the links (and a scan) want it. */
void ble_disc_update(struct gw_ble *m, struct ble_obj *ad);

/* ------------------------------------------------------------ the users */

/* The mirror and discovery tell the users (struct ble_users) through these. */
static inline void ble_tell_link_fail(struct gw_ble_link *b, const char *why)
{
	if (b->m->users->link_fail)
		b->m->users->link_fail(b, why);
}

static inline void ble_tell_link_advance(struct gw_ble_link *b)
{
	if (b->m->users->link_advance)
		b->m->users->link_advance(b);
}

static inline void ble_tell_scan_objects(struct gw_ble *m)
{
	if (m->users->scan_objects)
		m->users->scan_objects(m);
}

static inline void ble_tell_scan_fail(struct gw_ble *m, const char *why)
{
	if (m->users->scan_fail)
		m->users->scan_fail(m, why);
}

#endif
