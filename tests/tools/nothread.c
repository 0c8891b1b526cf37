/* SPDX-License-Identifier: MIT */
/* tests/tools/nothread.c - a system out of threads, as an LD_PRELOAD
 * library for the tests: while the file named by NOTHREAD_FLAG exists,
 * pthread_create() fails with EAGAIN (as at RLIMIT_NPROC, which root does
 * not meet).  test_https turns it on before a reload that adds logins:
 * the login thread cannot start, and the server must refuse rather than
 * serve without a login. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef int create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	create_fn *real = (create_fn *)dlsym(RTLD_NEXT, "pthread_create");
	const char *flag = getenv("NOTHREAD_FLAG");
	if (flag && *flag && access(flag, F_OK) == 0)
		return EAGAIN;
	return real(t, attr, fn, arg);
}
