/*
 * kdump_index.c: the persistent index of flattened kdump files (see
 * kdump_index.h).
 *
 * An index file, in host byte order (it never leaves the machine):
 *   "PTLKDIX1", the key (8 x u64), n (u64), n record headers of 16 bytes
 *   (big-endian, as in the dump), a CRC-32 of everything before it (u32).
 * Depends on: kdump_index.h, libc, zlib (crc32).
 */
#include "kdump_index.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#define KDIDX_MAGIC     "PTLKDIX1"
#define KDIDX_HEAD_SIZE (8u + 8u * 8u + 8u)     /* magic, key, n */
#define KDIDX_HASHED    16384u                  /* the file's first bytes in the key */

/* cache_dir - ${XDG_CACHE_HOME:-$HOME/.cache}/ptlab/kdump-index into out. returns: 0; -1. */
static int cache_dir(char *out, size_t len)
{
    const char *env = getenv("PTLAB_NO_CACHE");
    if (env && *env)
        return -1;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')       /* a relative one is ignored, as XDG says */
        n = snprintf(out, len, "%s/ptlab/kdump-index", xdg);
    else if (home && home[0] == '/')
        n = snprintf(out, len, "%s/.cache/ptlab/kdump-index", home);
    else
        return -1;
    return n > 0 && (size_t)n < len ? 0 : -1;
}

int ptl_kdidx_init(struct ptl_kdidx *x, int fd, const uint8_t *buf, size_t size)
{
    char dir[PATH_MAX - 48];
    struct stat st;
    if (fd < 0 || cache_dir(dir, sizeof(dir)) || fstat(fd, &st) || !S_ISREG(st.st_mode))
        return -1;
    uint64_t key[8] = {
        (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
        (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
        (uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec,
        crc32_z(0, buf, size < KDIDX_HASHED ? size : KDIDX_HASHED),
    };
    memcpy(x->key, key, sizeof(key));
    snprintf(x->path, sizeof(x->path), "%s/%llx-%llx.idx", dir, (unsigned long long)key[0],
             (unsigned long long)key[1]);
    return 0;
}

uint8_t *ptl_kdidx_load(const struct ptl_kdidx *x, size_t *n)
{
    int fd = open(x->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return NULL;
    uint8_t *b = NULL;
    if (fstat(fd, &st) == 0 && st.st_size >= KDIDX_HEAD_SIZE + 4 &&
        (uint64_t)st.st_size <= x->key[2] + KDIDX_HEAD_SIZE + 4 &&
        (st.st_size - KDIDX_HEAD_SIZE - 4) % PTL_KDIDX_HEAD == 0 &&
        (b = malloc((size_t)st.st_size)) &&
        read(fd, b, (size_t)st.st_size) != (ssize_t)st.st_size) {
        free(b);
        b = NULL;
    }
    close(fd);
    if (!b)
        return NULL;
    size_t body = (size_t)st.st_size - 4;
    uint64_t count;
    uint32_t crc;
    memcpy(&count, b + 8 + sizeof(x->key), 8);
    memcpy(&crc, b + body, 4);
    if (memcmp(b, KDIDX_MAGIC, 8) || memcmp(b + 8, x->key, sizeof(x->key)) ||
        count != (body - KDIDX_HEAD_SIZE) / PTL_KDIDX_HEAD || crc != crc32_z(0, b, body)) {
        free(b);
        return NULL;
    }
    memmove(b, b + KDIDX_HEAD_SIZE, body - KDIDX_HEAD_SIZE);
    *n = (size_t)count;
    return b;
}

/* An index file found by prune. */
struct idx_file {
    time_t t;
    char name[64];
};

static int cmp_mtime(const void *a, const void *b)
{
    const struct idx_file *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* prune - remove the oldest index files of dir beyond PTL_KDIDX_MAX_FILES. */
static void prune(const char *dir)
{
    struct idx_file f[4 * PTL_KDIDX_MAX_FILES];
    size_t nf = 0;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct stat st;
    for (struct dirent *e; (e = readdir(d)) && nf < sizeof(f) / sizeof(f[0]);) {
        size_t len = strlen(e->d_name);
        if (len < 5 || len >= sizeof(f[0].name) || strcmp(e->d_name + len - 4, ".idx") ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW))
            continue;
        f[nf].t = st.st_mtim.tv_sec;
        memcpy(f[nf++].name, e->d_name, len + 1);
    }
    if (nf > PTL_KDIDX_MAX_FILES) {
        qsort(f, nf, sizeof(f[0]), cmp_mtime);
        for (size_t i = 0; i < nf - PTL_KDIDX_MAX_FILES; i++)
            unlinkat(dirfd(d), f[i].name, 0);
    }
    closedir(d);
}

/* write_all - n bytes to fd. returns: 0; -1. */
static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

void ptl_kdidx_save(const struct ptl_kdidx *x, const uint8_t *heads, size_t n)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 32];
    snprintf(dir, sizeof(dir), "%s", x->path);
    *strrchr(dir, '/') = '\0';
    for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {   /* mkdir -p */
        if (p)
            *p = '\0';
        mkdir(dir, 0700);
        if (!p)
            break;
        *p = '/';
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", x->path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    uint8_t head[KDIDX_HEAD_SIZE];
    uint64_t count = n;
    memcpy(head, KDIDX_MAGIC, 8);
    memcpy(head + 8, x->key, sizeof(x->key));
    memcpy(head + 8 + sizeof(x->key), &count, 8);
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0, head, sizeof(head)), heads,
                                     n * PTL_KDIDX_HEAD);
    int bad = write_all(fd, head, sizeof(head)) || write_all(fd, heads, n * PTL_KDIDX_HEAD) ||
              write_all(fd, &crc, 4);
    if (close(fd) || bad || rename(tmp, x->path)) {
        unlink(tmp);
        return;
    }
    prune(dir);
}
