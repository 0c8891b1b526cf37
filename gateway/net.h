/* gateway/net.h - socket helpers shared by the links and the upstream pusher. */
#ifndef GATEWAY_NET_H
#define GATEWAY_NET_H

#include <stdbool.h>

/* Start a non-blocking TCP connection to host:port (TCP_NODELAY; with
 * `keepalive`, probes after 10 s idle, every 5 s, 3 lost = dead).  A numeric
 * host needs no lookup; a name goes through the resolver.  Returns the fd
 * with *in_progress set when the connect is still running (wait until it is
 * writable, then read SO_ERROR), or -1 with errno set; a host that does not
 * resolve gives EHOSTUNREACH with the resolver's code in *gai (else 0). */
int gw_tcp_connect(const char *host, int port, bool keepalive, bool *in_progress, int *gai);

#endif
