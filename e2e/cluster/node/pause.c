/*
 * The pod sandbox ("pause") process of the e2e cluster's real node: it holds the pod's
 * namespaces, reaps orphaned children and exits on SIGTERM/SIGINT. Built with `gcc -static` by
 * e2e/cluster/node.sh and imported into containerd under the configured sandbox_image name.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v') {
    puts("falcon-pause");
    return 0;
  }
  struct sigaction term = {.sa_handler = on_term};
  struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGTERM, &term, NULL) < 0 || sigaction(SIGINT, &term, NULL) < 0 ||
      sigaction(SIGCHLD, &child, NULL) < 0) {
    perror("falcon-pause: sigaction");
    return 1;
  }
  for (;;) {
    pause();
  }
}
