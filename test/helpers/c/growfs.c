/* A FUSE file system for tests: one file, "grow", of INITIAL_SIZE bytes (byte i is i % 251), read
 * directly (no page cache, direct_io). Unlinking it takes it out of the directory and sets its link
 * count to 0; it stays readable through the fds that still hold it. Attributes are never cached.
 * Once an open's first read is at or past INITIAL_SIZE (a pass of a followed copy, which starts where
 * the last one ended; a copy that read up to there just finds the end there), it grows: its
 * reads never end (byte i is still i % 251) and getattr says it is 1 MiB longer than the furthest
 * byte read so far. Each read then gives at most READ_PIECE bytes (a short read: dd passes on each
 * piece as it comes); the first FAST_READS reads of an open come at once, every later one of that
 * open waits (a slow server) until the kernel interrupts it (its reader killed: replied EINTR) or
 * SIGUSR2. The session loop is multi-threaded, so that the interrupt reaches the daemon while a
 * read waits.
 * Build: gcc -O2 growfs.c $(pkg-config --cflags --libs fuse3); run: growfs MOUNTPOINT (foreground) */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FILE_ID 2
#define INITIAL_SIZE 100000
#define READ_PIECE 65536
#define FAST_READS 4
#define MAX_OPENS 1024

static volatile sig_atomic_t released = 0;
static void on_signal(int signal_number) { (void)signal_number; released = 1; }

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int nlink = 1;
static int growing = 0;
static unsigned long long furthest = INITIAL_SIZE;
static unsigned opens = 0;
static unsigned reads_of[MAX_OPENS];
/* Whether an open has read yet: only its first read can start the growth. */
static int has_read[MAX_OPENS];

static void pause_10ms(void) {
  struct timespec pause = {0, 10 * 1000 * 1000};
  nanosleep(&pause, NULL);
}

static int fill_stat(fuse_ino_t id, struct stat *st) {
  memset(st, 0, sizeof *st);
  if (id == FUSE_ROOT_ID) {
    st->st_ino = 1;
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return 0;
  }
  if (id != FILE_ID) return -1;
  st->st_ino = 4243;
  st->st_mode = S_IFREG | 0644;
  pthread_mutex_lock(&lock);
  st->st_nlink = nlink;
  st->st_size = (off_t)(growing ? furthest + (1 << 20) : INITIAL_SIZE);
  pthread_mutex_unlock(&lock);
  return 0;
}

static void grow_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  if (parent != FUSE_ROOT_ID || strcmp(name, "grow") != 0 || nlink == 0) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  struct fuse_entry_param entry;
  memset(&entry, 0, sizeof entry);
  entry.ino = FILE_ID;
  fill_stat(FILE_ID, &entry.attr);
  fuse_reply_entry(req, &entry);
}

static void grow_getattr(fuse_req_t req, fuse_ino_t id, struct fuse_file_info *info) {
  (void)info;
  struct stat st;
  if (fill_stat(id, &st) != 0) fuse_reply_err(req, ENOENT);
  else fuse_reply_attr(req, &st, 0.0);
}

static void grow_readdir(fuse_req_t req, fuse_ino_t id, size_t size, off_t offset, struct fuse_file_info *info) {
  (void)info;
  if (id != FUSE_ROOT_ID) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  char buffer[512];
  size_t used = 0;
  if (offset < 1 && nlink > 0) {
    struct stat st;
    fill_stat(FILE_ID, &st);
    size_t need = fuse_add_direntry(req, buffer, sizeof buffer, "grow", &st, 1);
    if (need <= size) used = need;
  }
  fuse_reply_buf(req, buffer, used);
}

static void grow_open(fuse_req_t req, fuse_ino_t id, struct fuse_file_info *info) {
  if (id != FILE_ID) fuse_reply_err(req, EISDIR);
  else if ((info->flags & O_ACCMODE) != O_RDONLY) fuse_reply_err(req, EACCES);
  else {
    pthread_mutex_lock(&lock);
    info->fh = opens < MAX_OPENS ? opens++ : MAX_OPENS - 1;
    pthread_mutex_unlock(&lock);
    info->direct_io = 1;
    fuse_reply_open(req, info);
  }
}

static void grow_read(fuse_req_t req, fuse_ino_t id, size_t size, off_t offset, struct fuse_file_info *info) {
  (void)id;
  pthread_mutex_lock(&lock);
  if (!has_read[info->fh] && (unsigned long long)offset >= INITIAL_SIZE) growing = 1;
  has_read[info->fh] = 1;
  int grows = growing;
  unsigned nth = grows ? ++reads_of[info->fh] : 0;
  pthread_mutex_unlock(&lock);
  if (!grows) {
    if (offset >= INITIAL_SIZE) size = 0;
    else if ((size_t)offset + size > INITIAL_SIZE) size = INITIAL_SIZE - (size_t)offset;
  } else {
    if (size > READ_PIECE) size = READ_PIECE;
    if (nth > FAST_READS) {
      while (!released) {
        if (fuse_req_interrupted(req)) {
          fuse_reply_err(req, EINTR);
          return;
        }
        pause_10ms();
      }
    }
  }
  char piece[READ_PIECE];
  if (size > sizeof piece) size = sizeof piece;
  for (size_t i = 0; i < size; i++) piece[i] = (char)(((unsigned long long)offset + i) % 251);
  if (grows) {
    pthread_mutex_lock(&lock);
    if ((unsigned long long)offset + size > furthest) furthest = (unsigned long long)offset + size;
    pthread_mutex_unlock(&lock);
  }
  fuse_reply_buf(req, piece, size);
}

static void grow_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  if (parent != FUSE_ROOT_ID || strcmp(name, "grow") != 0 || nlink == 0) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  pthread_mutex_lock(&lock);
  nlink = 0;
  pthread_mutex_unlock(&lock);
  fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops operations = {
  .lookup = grow_lookup, .getattr = grow_getattr, .readdir = grow_readdir, .open = grow_open, .read = grow_read, .unlink = grow_unlink,
};

int main(int argc, char *argv[]) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MOUNTPOINT\n", argv[0]);
    return 2;
  }
  signal(SIGUSR2, on_signal);
  char *session_argv[] = {argv[0], "-o", "fsname=growfs,subtype=growfs", NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, session_argv);
  struct fuse_session *session = fuse_session_new(&args, &operations, sizeof operations, NULL);
  if (session == NULL) return 1;
  int status = 1;
  if (fuse_set_signal_handlers(session) == 0) {
    if (fuse_session_mount(session, argv[1]) == 0) {
      struct fuse_loop_config *config = fuse_loop_cfg_create();
      status = fuse_session_loop_mt(session, config) == 0 ? 0 : 1;
      fuse_loop_cfg_destroy(config);
      fuse_session_unmount(session);
    }
    fuse_remove_signal_handlers(session);
  }
  fuse_session_destroy(session);
  return status;
}
