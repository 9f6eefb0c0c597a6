/* LD_PRELOAD shim: the process sees $FAKE_NCPUS CPUs (default 64) through
 * sysconf(_SC_NPROCESSORS_*), get_nprocs*() and sched_getaffinity(), the
 * calls OpenBLAS's get_num_procs() makes. Built by tests/openblas_linked.rs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ncpu(void) {
    const char *e = getenv("FAKE_NCPUS");
    int n = e ? atoi(e) : 64;
    return n > 0 ? n : 64;
}

long sysconf(int name) {
    static long (*real)(int);
    if (name == _SC_NPROCESSORS_ONLN || name == _SC_NPROCESSORS_CONF)
        return ncpu();
    if (!real)
        real = (long (*)(int))dlsym(RTLD_NEXT, "sysconf");
    return real(name);
}

int get_nprocs(void) { return ncpu(); }
int get_nprocs_conf(void) { return ncpu(); }

int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set) {
    (void)pid;
    memset(set, 0, size);
    for (int i = 0; i < ncpu() && (size_t)i < size * 8; i++)
        CPU_SET_S(i, size, set);
    return 0;
}
