/* A FUSE file system for tests whose files have inode numbers past 2^53, as overlayfs (xino), CIFS
 * (an NTFS file id carries its sequence number in the top 16 bits) and some NFS servers hand out:
 * a JS number would round them to a neighbour's. Three files in one directory:
 *   "past-2p53"  inode 9007199254740993     (2^53 + 1: the first a double cannot hold)
 *   "past-2p63"  inode 18446744073709551557 (2^64 - 59: past what SQLite's signed INTEGER holds)
 *   "large"      inode 4242, 8 MiB: byte i is i % 251, read directly (no page cache, direct_io)
 * Unlinking one takes it out of the directory and sets its link count to 0; it stays readable
 * through the fds and mappings that still hold it. Attributes are never cached (timeouts 0).
 * After SIGUSR1 every getattr waits until SIGUSR2, as on a server that stopped answering; after
 * SIGURG only the files' getattr waits (the root still answers: a server that stops answering
 * after a probe of the mount point asked it); after
 * SIGWINCH a read of "large" at or past 1 MiB waits until SIGUSR2 (a server that dies mid-copy),
 * and as the daemon is single-threaded, so does everything after it. After SIGTTIN every open of a
 * file is refused with EACCES (a daemon that denies access) until SIGUSR2. After SIGPROF "large"
 * grows without end: each getattr of it says it is 1 GiB larger than the last did, and its reads
 * are never short (byte i is still i % 251), until SIGUSR2.
 * Build: gcc -O2 bigino.c $(pkg-config --cflags --libs fuse3); run: bigino MOUNTPOINT (foreground) */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static volatile sig_atomic_t hanging = 0;
static volatile sig_atomic_t reads_hanging = 0;
static volatile sig_atomic_t files_hanging = 0;
static volatile sig_atomic_t opens_denied = 0;
static volatile sig_atomic_t growing = 0;

static void on_signal(int signal_number) {
  if (signal_number == SIGUSR1) hanging = 1;
  else if (signal_number == SIGWINCH) reads_hanging = 1;
  else if (signal_number == SIGURG) files_hanging = 1;
  else if (signal_number == SIGTTIN) opens_denied = 1;
  else if (signal_number == SIGPROF) growing = 1;
  else hanging = reads_hanging = files_hanging = opens_denied = growing = 0;
}

#define LARGE_ID 4
#define LARGE_SIZE (8 << 20)
#define HANG_FROM (1 << 20)

static void pause_10ms(void) {
  struct timespec pause = {0, 10 * 1000 * 1000};
  nanosleep(&pause, NULL);
}

struct node {
  const char *name;
  unsigned long long ino;
  const char *content; /* NULL: generated (LARGE_ID) */
  int nlink;
};

/* Indexed by FUSE node id: 1 is the root, 2 and 3 the files. */
static struct node nodes[] = {
  {NULL, 0, NULL, 0},
  {"", 1, NULL, 2},
  {"past-2p53", 9007199254740993ULL, "content of the file whose inode is 2^53 + 1\n", 1},
  {"past-2p63", 18446744073709551557ULL, "content of the file whose inode is 2^64 - 59, mapped and unlinked\n", 1},
  {"large", 4242, NULL, 1},
};

/* What getattr said "large" is while it grows (SIGPROF): 1 GiB more at each. */
static unsigned long long grown_size = LARGE_SIZE;

static size_t node_size(fuse_ino_t id) { return id == LARGE_ID ? (growing ? (size_t)grown_size : LARGE_SIZE) : strlen(nodes[id].content); }
#define NODE_COUNT (sizeof nodes / sizeof nodes[0])

static int fill_stat(fuse_ino_t id, struct stat *st) {
  if (id < 1 || id >= NODE_COUNT) return -1;
  memset(st, 0, sizeof *st);
  st->st_ino = nodes[id].ino;
  st->st_nlink = nodes[id].nlink;
  if (id == FUSE_ROOT_ID) {
    st->st_mode = S_IFDIR | 0755;
  } else {
    st->st_mode = S_IFREG | 0644;
    st->st_size = (off_t)node_size(id);
  }
  return 0;
}

static fuse_ino_t find(fuse_ino_t parent, const char *name) {
  if (parent != FUSE_ROOT_ID) return 0;
  for (fuse_ino_t id = 2; id < NODE_COUNT; id++) {
    if (nodes[id].nlink > 0 && strcmp(nodes[id].name, name) == 0) return id;
  }
  return 0;
}

static void big_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  fuse_ino_t id = find(parent, name);
  if (id == 0) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  struct fuse_entry_param entry;
  memset(&entry, 0, sizeof entry);
  entry.ino = id;
  fill_stat(id, &entry.attr);
  fuse_reply_entry(req, &entry);
}

static void big_getattr(fuse_req_t req, fuse_ino_t id, struct fuse_file_info *info) {
  (void)info;
  while (hanging || (files_hanging && id != FUSE_ROOT_ID)) pause_10ms();
  if (growing && id == LARGE_ID) grown_size += 1ULL << 30;
  struct stat st;
  if (fill_stat(id, &st) != 0) fuse_reply_err(req, ENOENT);
  else fuse_reply_attr(req, &st, 0.0);
}

static void big_readdir(fuse_req_t req, fuse_ino_t id, size_t size, off_t offset, struct fuse_file_info *info) {
  (void)info;
  if (id != FUSE_ROOT_ID) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  char buffer[1024];
  size_t used = 0;
  for (fuse_ino_t entry = 2; entry < NODE_COUNT; entry++) {
    if ((off_t)entry <= offset + 1 || nodes[entry].nlink == 0) continue;
    struct stat st;
    fill_stat(entry, &st);
    size_t need = fuse_add_direntry(req, buffer + used, sizeof buffer - used, nodes[entry].name, &st, (off_t)entry);
    if (used + need > sizeof buffer || used + need > size) break;
    used += need;
  }
  fuse_reply_buf(req, buffer, used);
}

static void big_open(fuse_req_t req, fuse_ino_t id, struct fuse_file_info *info) {
  if (id < 2 || id >= NODE_COUNT) fuse_reply_err(req, EISDIR);
  else if ((info->flags & O_ACCMODE) != O_RDONLY || opens_denied) fuse_reply_err(req, EACCES);
  else {
    info->direct_io = id == LARGE_ID;
    fuse_reply_open(req, info);
  }
}

static void big_read(fuse_req_t req, fuse_ino_t id, size_t size, off_t offset, struct fuse_file_info *info) {
  (void)info;
  /* Growing: never at its end. */
  size_t length = growing && id == LARGE_ID ? (size_t)offset + size : node_size(id);
  if ((size_t)offset >= length) {
    fuse_reply_buf(req, NULL, 0);
    return;
  }
  if (offset + size > length) size = length - (size_t)offset;
  if (id != LARGE_ID) {
    fuse_reply_buf(req, nodes[id].content + offset, size);
    return;
  }
  while (reads_hanging && offset >= HANG_FROM) pause_10ms();
  static char generated[LARGE_SIZE];
  if (size > sizeof generated) size = sizeof generated;
  for (size_t i = 0; i < size; i++) generated[i] = (char)((offset + i) % 251);
  fuse_reply_buf(req, generated, size);
}

static void big_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  fuse_ino_t id = find(parent, name);
  if (id == 0) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  nodes[id].nlink = 0;
  fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops operations = {
  .lookup = big_lookup, .getattr = big_getattr, .readdir = big_readdir, .open = big_open, .read = big_read, .unlink = big_unlink,
};

int main(int argc, char *argv[]) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MOUNTPOINT\n", argv[0]);
    return 2;
  }
  signal(SIGUSR1, on_signal);
  signal(SIGUSR2, on_signal);
  signal(SIGWINCH, on_signal);
  signal(SIGURG, on_signal);
  signal(SIGTTIN, on_signal);
  signal(SIGPROF, on_signal);
  char *session_argv[] = {argv[0], "-o", "fsname=bigino,subtype=bigino", NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, session_argv);
  struct fuse_session *session = fuse_session_new(&args, &operations, sizeof operations, NULL);
  if (session == NULL) return 1;
  int status = 1;
  if (fuse_set_signal_handlers(session) == 0) {
    if (fuse_session_mount(session, argv[1]) == 0) {
      status = fuse_session_loop(session) == 0 ? 0 : 1;
      fuse_session_unmount(session);
    }
    fuse_remove_signal_handlers(session);
  }
  fuse_session_destroy(session);
  return status;
}
