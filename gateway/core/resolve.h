/* SPDX-License-Identifier: MIT */
/* gateway/core/resolve.h - host names resolved off the loop (c-ares on libev).
 *
 * A numeric address (IPv4, IPv6, with or without a %scope) is converted at
 * once without any lookup.  A name goes to c-ares, whose sockets and
 * timeouts are libev watchers of the daemon's loop: nothing waits for a DNS
 * server.  Every lookup ends in its callback exactly once (an address, an
 * error, or a timeout) unless its owner cancels it first.
 */
#ifndef GATEWAY_CORE_RESOLVE_H
#define GATEWAY_CORE_RESOLVE_H

#include <ev.h>
#include <stdbool.h>
#include <sys/socket.h>

struct gw_resolver;
struct gw_lookup;

/* Seconds a lookup may take before it fails with "timed out". */
#define GW_LOOKUP_TIMEOUT 5.0

/* The outcome of one lookup: ok with the first address (port filled in),
 * or !ok with a message such as "timed out after 5 s" or "no such host". */
struct gw_lookup_result {
	bool ok;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char error[96];
};

typedef void (*gw_lookup_cb)(void *arg, const struct gw_lookup_result *res);

/* A resolver on `loop`; NULL with errno set when c-ares cannot start. */
struct gw_resolver *gw_resolver_new(struct ev_loop *loop);
/* Cancel every pending lookup (their callbacks are not called) and free it; NULL is fine. */
void gw_resolver_free(struct gw_resolver *r);

/* Convert a numeric address without any lookup: true with *out filled, false
 * if host is a name.  Pure. */
bool gw_numeric_addr(const char *host, int port, struct sockaddr_storage *out, socklen_t *len);

/* Resolve host:port and call cb(arg, result) once.  A numeric host (or a
 * lookup that fails at once) calls cb before returning; a name sets *handle
 * while the lookup runs and cb runs later from the loop.  *handle is NULL
 * again before cb runs, so cb may start another lookup on it. */
void gw_resolve(struct gw_resolver *r, const char *host, int port, gw_lookup_cb cb, void *arg,
		struct gw_lookup **handle);
/* Forget the pending lookup in *handle (if any): its callback will not run. */
void gw_lookup_cancel(struct gw_lookup **handle);

#endif
