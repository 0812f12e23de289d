/*
 * falcon-echo: a tiny HTTP server for the real-node e2e test (e2e/test_real_node.py).
 *
 *   falcon-echo [PORT [REQUESTS [SECONDS]]]
 *
 * Listens on 0.0.0.0:PORT (default 8080) inside its pod, answers REQUESTS (default 1) GET
 * requests with "hello from falcon-echo <n>", logs every step to stdout (for `kubectl logs`)
 * and exits 0 after the last one, or exits 3 when SECONDS (default 120) pass first, so a pod
 * running it always completes by itself. Built with `gcc -static` by e2e/cluster/node.sh.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "falcon-echo: timed out\n";
  (void)!write(1, msg, sizeof msg - 1);
  _exit(3);
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8080;
  int requests = argc > 2 ? atoi(argv[2]) : 1;
  int seconds = argc > 3 ? atoi(argv[3]) : 120;
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGALRM, on_alarm);
  alarm((unsigned)seconds);

  int srv = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (srv < 0 || bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(srv, 8) < 0) {
    perror("falcon-echo: listen");
    return 1;
  }
  printf("falcon-echo listening on :%d for %d request(s)\n", port, requests);
  for (int n = 1; n <= requests; n++) {
    int c = accept(srv, NULL, NULL);
    if (c < 0) {
      perror("falcon-echo: accept");
      return 1;
    }
    char buf[2048];
    ssize_t got = read(c, buf, sizeof buf - 1);
    buf[got > 0 ? got : 0] = '\0';
    char *eol = strpbrk(buf, "\r\n");
    if (eol) *eol = '\0';
    char body[64], head[160];
    int blen = snprintf(body, sizeof body, "hello from falcon-echo %d\n", n);
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                        "Content-Length: %d\r\nConnection: close\r\n\r\n",
                        blen);
    (void)!write(c, head, (size_t)hlen);
    (void)!write(c, body, (size_t)blen);
    close(c);
    printf("falcon-echo served request %d: %s\n", n, buf);
  }
  printf("falcon-echo done\n");
  return 0;
}
