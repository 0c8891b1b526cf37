/* gateway/net.c - socket helpers shared by the links and the upstream pusher. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

int gw_tcp_connect(const char *host, int port, bool keepalive, bool *in_progress, int *gai)
{
	char service[8];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST };
	struct addrinfo *ai = NULL;
	*gai = 0;
	*in_progress = false;
	/* numeric addresses resolve without any lookup; names use the resolver */
	int rc = getaddrinfo(host, service, &hints, &ai);
	if (rc == EAI_NONAME) {
		hints.ai_flags &= ~AI_NUMERICHOST;
		rc = getaddrinfo(host, service, &hints, &ai);
	}
	if (rc != 0) {
		*gai = rc;
		errno = EHOSTUNREACH;
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		freeaddrinfo(ai);
		errno = e;
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (keepalive) {
		int idle = 10, intvl = 5, cnt = 3;
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	int e = errno;
	freeaddrinfo(ai);
	if (rc < 0 && e != EINPROGRESS) {
		close(fd);
		errno = e;
		return -1;
	}
	*in_progress = rc < 0;
	return fd;
}
