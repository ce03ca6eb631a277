// A process with a thread that holds a deleted file in an fd table of its own: the thread calls
// unshare(CLONE_FILES), opens ARGV[1] and unlinks it; then the main thread opens ARGV[2] and unlinks
// it (after the unshare: the thread's table does not have it). Both get fd 3, each in its own table,
// so the two tables have the same fd numbers. A third thread shares the main thread's table.
// Prints "PID OWN_TID SHARED_TID" once all is in place, then waits to be killed.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *hidden;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int ready;
static long tids[2];

static void mark(int which) {
  pthread_mutex_lock(&lock);
  tids[which] = syscall(SYS_gettid);
  ready++;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}

static void *own_table(void *unused) {
  (void)unused;
  if (unshare(CLONE_FILES) != 0) { perror("unshare"); exit(1); }
  if (open(hidden, O_RDONLY) < 0) { perror("open hidden"); exit(1); }
  if (unlink(hidden) != 0) { perror("unlink hidden"); exit(1); }
  mark(0);
  for (;;) pause();
}

static void *shared_table(void *unused) {
  (void)unused;
  mark(1);
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: ownfdtable HIDDEN SHOWN\n"); return 2; }
  hidden = argv[1];
  pthread_t a, b;
  pthread_create(&a, NULL, own_table, NULL);
  pthread_create(&b, NULL, shared_table, NULL);
  pthread_mutex_lock(&lock);
  while (ready < 2) pthread_cond_wait(&changed, &lock);
  pthread_mutex_unlock(&lock);
  if (open(argv[2], O_RDONLY) < 0) { perror("open shown"); return 1; }
  if (unlink(argv[2]) != 0) { perror("unlink shown"); return 1; }
  printf("%ld %ld %ld\n", (long)getpid(), tids[0], tids[1]);
  fflush(stdout);
  for (;;) pause();
}
