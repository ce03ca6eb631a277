// A process with a thread that holds deleted files in an fd table of its own. In DIR (argv[1]):
//   main: opens and unlinks inherited.bin (fd 3), then starts the threads;
//   thread A: unshare(CLONE_FILES) (its copy of the table has inherited.bin at fd 3 too), opens and
//     unlinks hidden.bin (fd 4), renames same-thread.log to same.log, opens and unlinks it (fd 5),
//     then starts thread A2, which shares A's table;
//   thread B: shares the main table;
//   main, once all three run: opens and unlinks shown.bin (fd 4), renames same-main.log to
//     same.log, opens and unlinks it (fd 5).
// Both tables then have fds 0-5, and fd 5 is "DIR/same.log (deleted)" in both: two different files.
// With "same-only" as argv[2], hidden.bin and shown.bin are left out: the two tables then differ
// only in which file "DIR/same.log (deleted)" at fd 4 is.
// Prints "PID A_TID A2_TID B_TID" once all is in place, then waits to be killed.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *dir;
static int same_only;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int ready;
static long tids[3];

static void mark(int which) {
  pthread_mutex_lock(&lock);
  tids[which] = syscall(SYS_gettid);
  ready++;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}

static void hold(const char *from, const char *name) {
  char path[4096], source[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (from != NULL) {
    snprintf(source, sizeof source, "%s/%s", dir, from);
    if (rename(source, path) != 0) { perror("rename"); exit(1); }
  }
  if (open(path, O_RDONLY) < 0) { perror(path); exit(1); }
  if (unlink(path) != 0) { perror("unlink"); exit(1); }
}

static void *wait_forever(void *which) {
  mark((int)(long)which);
  for (;;) pause();
}

static void *own_table(void *unused) {
  (void)unused;
  if (unshare(CLONE_FILES) != 0) { perror("unshare"); exit(1); }
  if (!same_only) hold(NULL, "hidden.bin");
  hold("same-thread.log", "same.log");
  pthread_t shares_mine;
  pthread_create(&shares_mine, NULL, wait_forever, (void *)1L);
  mark(0);
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: ownfdtable DIR [same-only]\n"); return 2; }
  dir = argv[1];
  same_only = argc > 2;
  hold(NULL, "inherited.bin");
  pthread_t a, b;
  pthread_create(&a, NULL, own_table, NULL);
  pthread_create(&b, NULL, wait_forever, (void *)2L);
  pthread_mutex_lock(&lock);
  while (ready < 3) pthread_cond_wait(&changed, &lock);
  pthread_mutex_unlock(&lock);
  if (!same_only) hold(NULL, "shown.bin");
  hold("same-main.log", "same.log");
  printf("%ld %ld %ld %ld\n", (long)getpid(), tids[0], tids[1], tids[2]);
  fflush(stdout);
  for (;;) pause();
}
