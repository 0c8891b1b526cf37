/* SPDX-License-Identifier: MIT */
/* gateway/core/net.c - socket helpers shared by the links, the upstream pusher,
 * the Modbus server and the maintenance tunnels. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "resolve.h"

int gw_tcp_connect(const struct sockaddr *sa, socklen_t len, bool keepalive, bool *in_progress)
{
	*in_progress = false;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (keepalive) {
		int idle = 10, intvl = 5, cnt = 3;
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	int rc = connect(fd, sa, len);
	if (rc < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*in_progress = rc < 0;
	return fd;
}

static bool hosts_lookup(const char *name, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	FILE *f = fopen("/etc/hosts", "re");
	if (!f)
		return false;
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *save = NULL, *addr = strtok_r(line, " \t\r\n", &save), *n;
		while (addr && (n = strtok_r(NULL, " \t\r\n", &save)))
			if (strcasecmp(n, name) == 0 && gw_numeric_addr(addr, port, ss, len)) {
				found = true;
				break;
			}
	}
	fclose(f);
	return found;
}

int gw_tcp_listen(const char *host, int port, bool may_block, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	if (!gw_numeric_addr(host, port, &ss, &sl) && !hosts_lookup(host, port, &ss, &sl)) {
		if (!may_block) {
			snprintf(err, errlen, "listen %s:%d: the name is not in /etc/hosts, and a reload does "
				 "not wait for DNS (use an address, or restart bmsgw)", host, port);
			return -1;
		}
		/* at start, before anything is served, the system resolver may take its time */
		char service[8];
		snprintf(service, sizeof(service), "%d", port);
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
		struct addrinfo *ai = NULL;
		int rc = getaddrinfo(host, service, &hints, &ai);
		if (rc != 0 || !ai) {
			snprintf(err, errlen, "listen %s:%d: %s", host, port, gai_strerror(rc));
			return -1;
		}
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		sl = ai->ai_addrlen;
		freeaddrinfo(ai);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "listen %s:%d: socket: %s", host, port, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6) {
		int zero = 0; /* [::] also accepts IPv4 */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	/* a deep backlog: thousands of clients may connect at once */
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "listen %s:%d: %s%s", host, port, strerror(errno),
			 errno == EACCES ? " (port < 1024 needs root or CAP_NET_BIND_SERVICE)" : "");
		close(fd);
		return -1;
	}
	return fd;
}
