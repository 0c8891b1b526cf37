/* SPDX-License-Identifier: MIT */
/* gateway/core/net.h - socket helpers shared by the links, the upstream pusher,
 * the Modbus server and the maintenance tunnels. */
#ifndef GATEWAY_CORE_NET_H
#define GATEWAY_CORE_NET_H

#include <stdbool.h>
#include <sys/socket.h>

/* Start a non-blocking TCP connection to the address sa (TCP_NODELAY; with
 * `keepalive`, probes after 10 s idle, every 5 s, 3 lost = dead).  Returns
 * the fd with *in_progress set when the connect is still running (wait until
 * it is writable, then read SO_ERROR), or -1 with errno set.  Never blocks;
 * names are resolved before, by resolve.c. */
int gw_tcp_connect(const struct sockaddr *sa, socklen_t len, bool keepalive, bool *in_progress);

/* A listening TCP socket (non-blocking, SO_REUSEADDR, [::] also takes
 * IPv4, backlog SOMAXCONN) on host:port.  host is an address or a name
 * from /etc/hosts; other names only with may_block (at start, before
 * anything is served: a reload never waits for DNS).  The fd, or -1 with
 * err filled in. */
int gw_tcp_listen(const char *host, int port, bool may_block, char *err, size_t errlen);

#endif
