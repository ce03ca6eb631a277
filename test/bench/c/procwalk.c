/* A minimal C /proc walker, the speed reference for `unlinked snapshot --no-lsof`:
 * for every process, readlink+stat every fd (fdinfo for deleted ones), stat the exe, and
 * stat each file-backed mapping through map_files. Prints the number of deleted items. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long deleted = 0, fds = 0;

static void walk_pid(const char *pid) {
  char path[512], target[4096], buf[8192];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%s/exe", pid);
  if (stat(path, &st) == 0 && st.st_nlink == 0) deleted++;
  snprintf(path, sizeof path, "/proc/%s/fd", pid);
  DIR *dir = opendir(path);
  if (dir) {
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
      if (entry->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "/proc/%s/fd/%s", pid, entry->d_name);
      ssize_t n = readlink(path, target, sizeof target - 1);
      if (n < 0) continue;
      fds++;
      if (target[0] != '/') continue;
      if (stat(path, &st) != 0) continue;
      if (st.st_nlink == 0 && S_ISREG(st.st_mode)) {
        deleted++;
        snprintf(path, sizeof path, "/proc/%s/fdinfo/%s", pid, entry->d_name);
        int fd = open(path, O_RDONLY);
        if (fd >= 0) { if (read(fd, buf, sizeof buf) < 0) {} close(fd); }
      }
    }
    closedir(dir);
  }
  snprintf(path, sizeof path, "/proc/%s/maps", pid);
  FILE *maps = fopen(path, "r");
  if (maps) {
    char line[4096], range[128];
    unsigned long inode;
    while (fgets(line, sizeof line, maps)) {
      if (sscanf(line, "%127s %*s %*s %*s %lu", range, &inode) == 2 && inode != 0) {
        snprintf(path, sizeof path, "/proc/%s/map_files/%s", pid, range);
        if (stat(path, &st) == 0 && st.st_nlink == 0) deleted++;
      }
    }
    fclose(maps);
  }
}

int main(void) {
  DIR *proc = opendir("/proc");
  if (!proc) return 1;
  struct dirent *entry;
  while ((entry = readdir(proc)) != NULL) {
    if (entry->d_name[0] >= '0' && entry->d_name[0] <= '9') walk_pid(entry->d_name);
  }
  closedir(proc);
  printf("%ld fds, %ld deleted\n", fds, deleted);
  return 0;
}
