/* A process whose main thread exits while another thread runs on (a "zombie leader"): its
 * /proc/PID/fd, maps and exe then read empty, and lsof sees none of its files. Before that it opens
 * FILE and unlinks it (fd 3), and maps MAPPED and unlinks it (no fd left). It prints its pid, and the
 * remaining thread waits until killed. With ODD, a thread started first unshares its fd table
 * (unshare(CLONE_FILES)), opens ODD there and unlinks it: two live threads, two fd tables of
 * different sizes, neither shared by more threads than the other.
 * Build: gcc -O2 -pthread zombieleader.c -o zombieleader; run: zombieleader FILE MAPPED [ODD] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void *wait_forever(void *unused) {
  (void)unused;
  for (;;) pause();
  return NULL;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int odd_ready;

static void *odd_table(void *odd) {
  if (unshare(CLONE_FILES) != 0 || open((const char *)odd, O_RDONLY) < 0 || unlink((const char *)odd) != 0) _exit(1);
  pthread_mutex_lock(&lock);
  odd_ready = 1;
  pthread_cond_signal(&changed);
  pthread_mutex_unlock(&lock);
  for (;;) pause();
  return NULL;
}

int main(int argc, char *argv[]) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s FILE MAPPED [ODD]\n", argv[0]);
    return 2;
  }
  int held = open(argv[1], O_RDONLY);
  int mapped = open(argv[2], O_RDONLY);
  struct stat st;
  if (held < 0 || mapped < 0 || fstat(mapped, &st) != 0) return 1;
  void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, mapped, 0);
  if (map == MAP_FAILED) return 1;
  close(mapped);
  if (unlink(argv[1]) != 0 || unlink(argv[2]) != 0) return 1;
  pthread_t thread;
  if (argc == 4) {
    if (pthread_create(&thread, NULL, odd_table, argv[3]) != 0) return 1;
    pthread_mutex_lock(&lock);
    while (!odd_ready) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
  }
  if (pthread_create(&thread, NULL, wait_forever, NULL) != 0) return 1;
  printf("%d\n", (int)getpid());
  fflush(stdout);
  pthread_exit(NULL);
}
