/* A process whose main thread exits while another thread runs on (a "zombie leader"): its
 * /proc/PID/fd, maps and exe then read empty, and lsof sees none of its files. Before that it opens
 * FILE and unlinks it (fd 3), and maps MAPPED and unlinks it (no fd left). It prints its pid, and the
 * remaining thread waits until killed.
 * Build: gcc -O2 -pthread zombieleader.c -o zombieleader; run: zombieleader FILE MAPPED */
#include <fcntl.h>
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

int main(int argc, char *argv[]) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE MAPPED\n", argv[0]);
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
  if (pthread_create(&thread, NULL, wait_forever, NULL) != 0) return 1;
  printf("%d\n", (int)getpid());
  fflush(stdout);
  pthread_exit(NULL);
}
