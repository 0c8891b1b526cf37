/* gateway/net.h - socket helpers shared by the links and the upstream pusher. */
#ifndef GATEWAY_NET_H
#define GATEWAY_NET_H

#include <stdbool.h>
#include <sys/socket.h>

/* Start a non-blocking TCP connection to the address sa (TCP_NODELAY; with
 * `keepalive`, probes after 10 s idle, every 5 s, 3 lost = dead).  Returns
 * the fd with *in_progress set when the connect is still running (wait until
 * it is writable, then read SO_ERROR), or -1 with errno set.  Never blocks;
 * names are resolved before, by resolve.c. */
int gw_tcp_connect(const struct sockaddr *sa, socklen_t len, bool keepalive, bool *in_progress);

#endif
