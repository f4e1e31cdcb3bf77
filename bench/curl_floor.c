/* A minimal libcurl prober, the reference row "libcurl floor" of bench/run.sh.
 *
 * What a probe costs when libcurl does the HTTP and nothing else is around it: the multi_socket
 * API on one epoll loop, a fresh connection per probe (FRESH_CONNECT + FORBID_REUSE, as envprobe
 * sets), pinned with CONNECT_TO, evenly paced like envprobe's scheduler, but every easy handle
 * made once and reused, curl's timeout folded into epoll_wait (no timerfd), no result handling.
 *
 *   curl_floor NGINX_PORT TARGETS RATE SECONDS   ->  prints "completed N ok M"
 */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

static int epfd;
static double curl_deadline = -1; /* absolute, seconds; -1: none */
static long completed, ok;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *u, void *sockp) {
  (void)e; (void)u;
  struct epoll_event ev = {0};
  ev.data.fd = fd;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    return 0;
  }
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  if (epoll_ctl(epfd, sockp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0)
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
  curl_multi_assign((CURLM *)u, fd, (void *)1);
  return 0;
}

static double now_s(void);

static int on_timer(CURLM *m, long ms, void *u) {
  (void)m; (void)u;
  curl_deadline = ms < 0 ? -1 : now_s() + ms / 1000.0;
  return 0;
}

static size_t discard(char *p, size_t s, size_t n, void *u) {
  (void)p; (void)u;
  return s * n;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s NGINX_PORT TARGETS RATE SECONDS\n", argv[0]);
    return 2;
  }
  const int port = atoi(argv[1]), targets = atoi(argv[2]);
  const double rate = atof(argv[3]), seconds = atof(argv[4]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *multi = curl_multi_init();
  epfd = epoll_create1(0);
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, multi);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);

  CURL **handles = calloc(targets, sizeof *handles);
  char *busy = calloc(targets, 1);
  struct curl_slist **rules = calloc(targets, sizeof *rules);
  char buf[256];
  for (int i = 0; i < targets; i++) {
    CURL *e = handles[i] = curl_easy_init();
    snprintf(buf, sizeof buf, "http://svc%06d.bench.test/", i);
    curl_easy_setopt(e, CURLOPT_URL, buf);
    snprintf(buf, sizeof buf, "svc%06d.bench.test:80:127.0.0.1:%d", i, port);
    rules[i] = curl_slist_append(NULL, buf);
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, rules[i]);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)(long)i);
  }

  const double start = now_s(), end = start + seconds;
  long issued = 0;
  struct epoll_event events[64];
  int running = 0;
  for (;;) {
    const double t = now_s();
    if (t >= end) break;
    long due = (long)((t - start) * rate) + 1;
    for (; issued < due; issued++) {
      const int i = issued % targets;
      if (busy[i]) continue;  /* skipped, like a run still in flight */
      busy[i] = 1;
      curl_multi_add_handle(multi, handles[i]);
    }
    double wake = start + issued / rate;
    if (curl_deadline >= 0 && curl_deadline < wake) wake = curl_deadline;
    double wait_ms = ceil((wake - now_s()) * 1000.0);
    const int n = epoll_wait(epfd, events, 64, wait_ms > 0 ? (int)wait_ms : 0);
    if (curl_deadline >= 0 && now_s() >= curl_deadline) {
      curl_deadline = -1;
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    for (int k = 0; k < n; k++) {
      int mask = (events[k].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                 (events[k].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                 (events[k].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi, events[k].data.fd, mask, &running);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL *e = msg->easy_handle;
      long code = 0;
      char *priv = NULL;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
      completed++;
      if (msg->data.result == CURLE_OK && code == 200) ok++;
      curl_multi_remove_handle(multi, e);
      busy[(long)priv] = 0;
    }
  }
  printf("completed %ld ok %ld\n", completed, ok);
  fflush(stdout);
  return 0;
}
