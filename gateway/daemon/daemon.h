/* SPDX-License-Identifier: MIT */
/* gateway/daemon/daemon.h - the daemon's lifecycle: build, serve, reload,
 * free (daemon.c), walking the service table (services.c). */
#ifndef GATEWAY_DAEMON_DAEMON_H
#define GATEWAY_DAEMON_DAEMON_H

#include <stddef.h>

#include "../model/gw.h"

/* Build packs and links from a validated configuration, which gw owns from
 * now on (gw_free() frees it).  0, or -1 with a logged error. */
int gw_init(struct gw *gw, struct ev_loop *loop, struct conf *conf);
/* The daemon's side: raise the descriptor limit, open the Modbus TCP
 * server, start the upstream pushers and the once-a-second tick (systemd
 * watchdog and status).  0, or -1 with a logged error (cannot listen). */
int gw_serve(struct gw *gw);
/* Open every link and start polling (non-blocking; failures retry on their own). */
void gw_start(struct gw *gw);
/* Apply a new, validated configuration with the least disruption (see
 * daemon.c).  On success gw owns nc and returns 0; on failure (the new
 * listen address cannot be opened) nothing changed, err says why, the
 * caller still owns nc, and -1 is returned. */
int gw_reload(struct gw *gw, struct conf *nc, char *err, size_t errlen);
/* SIGHUP: read the configuration file again and apply it (gw_reload), or
 * log why not and keep running as before; tells systemd RELOADING/READY. */
void gw_reload_file(struct gw *gw);
/* A signal to stop: nothing new starts (no poll, no command), and a change
 * of a BMS's settings on a wire is given up and leaves the BMS as it was
 * found (jbd: factory mode left without saving; poll/control.h
 * gw_control_stop()).  0 when nothing is on a wire: the loop may end now;
 * else 1, and the loop ends (ev_break) once those commands ended, or
 * after the time their frames may take (at most GW_STOP_WAIT_MAX s).  A
 * second signal ends it at once. */
#define GW_STOP_WAIT_MAX 10.0
int gw_stop_begin(struct gw *gw);

/* Stop every watcher, close every link, client and socket, free everything
 * (the configuration too).  The loop itself stays. */
void gw_free(struct gw *gw);

/* The outputs' sections of the configuration (each service row's), handed
 * down to conf/ before any load (services.c).  0, or -1 with why. */
int gw_conf_sections(char *why, size_t wl);

#endif
