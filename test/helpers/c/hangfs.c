/* A FUSE file system for tests: one directory holding one file, "held.txt". After SIGUSR1 every
 * getattr waits (as an NFS server that went away, or a FUSE daemon that hangs, would make stat wait)
 * until SIGUSR2. Attributes are never cached (attr_timeout 0), so each stat reaches the daemon.
 * Build: gcc -O2 hangfs.c $(pkg-config --cflags --libs fuse3); run: hangfs -f MOUNTPOINT */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char content[] = "held on a file system whose server stopped answering\n";
static volatile sig_atomic_t hanging = 0;

static void on_signal(int signal_number) { hanging = signal_number == SIGUSR1; }

static void *hang_init(struct fuse_conn_info *conn, struct fuse_config *config) {
  (void)conn;
  config->attr_timeout = 0;
  config->entry_timeout = 0;
  config->negative_timeout = 0;
  return NULL;
}

static int hang_getattr(const char *path, struct stat *st, struct fuse_file_info *info) {
  (void)info;
  while (hanging) {
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  memset(st, 0, sizeof *st);
  if (strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return 0;
  }
  if (strcmp(path, "/held.txt") == 0) {
    st->st_mode = S_IFREG | 0644;
    st->st_nlink = 1;
    st->st_size = sizeof content - 1;
    return 0;
  }
  return -ENOENT;
}

static int hang_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t offset, struct fuse_file_info *info, enum fuse_readdir_flags flags) {
  (void)offset; (void)info; (void)flags;
  if (strcmp(path, "/") != 0) return -ENOENT;
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  fill(buf, "held.txt", NULL, 0, 0);
  return 0;
}

static int hang_open(const char *path, struct fuse_file_info *info) {
  (void)info;
  return strcmp(path, "/held.txt") == 0 ? 0 : -ENOENT;
}

static int hang_read(const char *path, char *buf, size_t size, off_t offset, struct fuse_file_info *info) {
  (void)path; (void)info;
  size_t length = sizeof content - 1;
  if ((size_t)offset >= length) return 0;
  if (offset + size > length) size = length - offset;
  memcpy(buf, content + offset, size);
  return (int)size;
}

static const struct fuse_operations operations = {
  .init = hang_init, .getattr = hang_getattr, .readdir = hang_readdir, .open = hang_open, .read = hang_read,
};

int main(int argc, char *argv[]) {
  signal(SIGUSR1, on_signal);
  signal(SIGUSR2, on_signal);
  return fuse_main(argc, argv, &operations, NULL);
}
