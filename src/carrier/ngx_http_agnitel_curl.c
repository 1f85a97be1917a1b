
/*
 * Copyright (C) agnitel
 *
 * libcurl's multi interface on nginx's event loop, after curl's
 * docs/examples/multi-event.c: curl says which sockets it wants watched
 * and when it wants a timeout; each socket becomes an nginx connection
 * whose read and write events call curl back, and the timeout an nginx
 * timer.  Nothing here blocks: names are resolved by curl's threaded
 * resolver (Debian's libcurl has it; init checks), whose wake-up socket
 * is watched like the others.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_agnitel_curl.h"


/* the largest answer kept; a carrier's list page is far smaller */
#define NGX_HTTP_AGNITEL_CURL_MAX_RESPONSE  (1024 * 1024)

/* connections to the carrier at most, whatever the jobs ask for */
#define NGX_HTTP_AGNITEL_CURL_CONNECTIONS   50

/* a call's limit when no configuration names one */
#define NGX_HTTP_AGNITEL_CURL_TIMEOUT       10000


typedef struct {
    CURLM                          *multi;
    ngx_event_t                     timer;
    ngx_queue_t                     fetches;
    ngx_http_agnitel_curl_conf_t   *conf;
    ngx_log_t                      *log;
} ngx_http_agnitel_curl_t;


static int ngx_http_agnitel_curl_socket(CURL *easy, curl_socket_t s,
    int what, void *userp, void *socketp);
static ngx_int_t ngx_http_agnitel_curl_watch(ngx_event_t *ev,
    ngx_int_t event, ngx_uint_t on);
static void ngx_http_agnitel_curl_release(ngx_connection_t *c);
static int ngx_http_agnitel_curl_timer(CURLM *multi, long timeout_ms,
    void *userp);
static void ngx_http_agnitel_curl_event(ngx_event_t *ev);
static void ngx_http_agnitel_curl_timeout(ngx_event_t *ev);
static void ngx_http_agnitel_curl_finished(void);
static ngx_int_t ngx_http_agnitel_curl_setup(ngx_http_agnitel_fetch_t *f,
    CURL *easy);
static ngx_int_t ngx_http_agnitel_curl_header(ngx_http_agnitel_fetch_t *f,
    const char *name, ngx_str_t *value);
static size_t ngx_http_agnitel_curl_write(char *ptr, size_t size,
    size_t nmemb, void *data);
static void ngx_http_agnitel_curl_free(ngx_http_agnitel_fetch_t *f);


/* per worker: only the process that made it drives it */
static ngx_http_agnitel_curl_t  ngx_http_agnitel_curl;


ngx_int_t
ngx_http_agnitel_curl_init(ngx_cycle_t *cycle,
    ngx_http_agnitel_curl_conf_t *conf)
{
    ngx_http_agnitel_curl_t  *cu = &ngx_http_agnitel_curl;

    curl_version_info_data  *info;

    /* the jobs and the sandbox share one multi handle per worker */

    if (cu->multi) {
        if (conf) {
            cu->conf = conf;
        }

        return NGX_OK;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "agnitel: curl_global_init() failed");
        return NGX_ERROR;
    }

    info = curl_version_info(CURLVERSION_NOW);

    if (!(info->features & CURL_VERSION_ASYNCHDNS)) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "agnitel: libcurl %s resolves names while the "
                      "worker waits: give agnitel_twilio_url an address",
                      info->version);
    }

    cu->multi = curl_multi_init();
    if (cu->multi == NULL) {
        curl_global_cleanup();
        return NGX_ERROR;
    }

    curl_multi_setopt(cu->multi, CURLMOPT_SOCKETFUNCTION,
                      ngx_http_agnitel_curl_socket);
    curl_multi_setopt(cu->multi, CURLMOPT_SOCKETDATA, cu);
    curl_multi_setopt(cu->multi, CURLMOPT_TIMERFUNCTION,
                      ngx_http_agnitel_curl_timer);
    curl_multi_setopt(cu->multi, CURLMOPT_TIMERDATA, cu);
    curl_multi_setopt(cu->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long) NGX_HTTP_AGNITEL_CURL_CONNECTIONS);

    cu->timer.handler = ngx_http_agnitel_curl_timeout;
    cu->timer.data = cu;
    cu->timer.log = cycle->log;

    /* a call under way does not hold a worker that is shutting down */
    cu->timer.cancelable = 1;

    ngx_queue_init(&cu->fetches);
    cu->conf = conf;
    cu->log = cycle->log;

    return NGX_OK;
}


/* starts a call; f->done runs once it is over, whatever the outcome */

ngx_int_t
ngx_http_agnitel_curl_fetch(ngx_http_agnitel_fetch_t *f)
{
    ngx_http_agnitel_curl_t  *cu = &ngx_http_agnitel_curl;

    CURL  *easy;

    if (cu->multi == NULL) {
        return NGX_ERROR;
    }

    easy = curl_easy_init();
    if (easy == NULL) {
        return NGX_ERROR;
    }

    f->easy = easy;
    f->headers = NULL;
    f->error[0] = '\0';
    ngx_str_null(&f->call.response);
    f->last = NULL;
    f->end = NULL;

    if (ngx_http_agnitel_curl_setup(f, easy) != NGX_OK
        || curl_multi_add_handle(cu->multi, easy) != CURLM_OK)
    {
        ngx_queue_init(&f->queue);
        ngx_http_agnitel_curl_free(f);
        return NGX_ERROR;
    }

    ngx_queue_insert_tail(&cu->fetches, &f->queue);

    return NGX_OK;
}


static ngx_int_t
ngx_http_agnitel_curl_setup(ngx_http_agnitel_fetch_t *f, CURL *easy)
{
    ngx_http_agnitel_curl_conf_t  *conf = ngx_http_agnitel_curl.conf;

    u_char             *url, *p;
    size_t              len;
    ngx_str_t          *base;
    ngx_msec_t          timeout;
    struct curl_slist  *h;

    base = f->base ? f->base : (conf ? &conf->base : NULL);

    if (f->url.len) {
        len = f->url.len + 1;

    } else if (base) {
        len = base->len + 1 + f->call.path.len + 1 + f->call.args.len + 1;

    } else {
        return NGX_ERROR;
    }

    url = ngx_pnalloc(f->pool, len);
    if (url == NULL) {
        return NGX_ERROR;
    }

    if (f->url.len) {
        p = ngx_cpymem(url, f->url.data, f->url.len);

    } else {
        p = ngx_sprintf(url, "%V/%V", base, &f->call.path);

        if (f->call.args.len) {
            p = ngx_sprintf(p, "?%V", &f->call.args);
        }
    }

    *p = '\0';

    if (f->call.authorization.len
        && ngx_http_agnitel_curl_header(f, "Authorization",
                                        &f->call.authorization)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (f->header.len
        && ngx_http_agnitel_curl_header(f, NULL, &f->header) != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = curl_slist_append(f->headers, "Accept: application/json");
    if (h == NULL) {
        return NGX_ERROR;
    }

    f->headers = h;

    timeout = conf ? conf->timeout : NGX_HTTP_AGNITEL_CURL_TIMEOUT;

    if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https")
           != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_HTTPHEADER, f->headers) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_PRIVATE, f) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
                            ngx_http_agnitel_curl_write) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_WRITEDATA, f) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, f->error) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) timeout)
           != CURLE_OK)
    {
        return NGX_ERROR;
    }

    if (conf && conf->ca_file.len
        && curl_easy_setopt(easy, CURLOPT_CAINFO, conf->ca_file.data)
           != CURLE_OK)
    {
        return NGX_ERROR;
    }

    if (f->call.method == NGX_HTTP_POST) {
        if (curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE,
                             (long) f->call.body.len) != CURLE_OK
            || curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS,
                                f->call.body.len ? (char *) f->call.body.data
                                                 : "")
               != CURLE_OK)
        {
            return NGX_ERROR;
        }

    } else if (f->call.method == NGX_HTTP_DELETE) {
        if (curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "DELETE")
            != CURLE_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * One header line, "name: value" (or value alone), onto f->headers.  curl
 * copies the string, so the pool's copy, which may hold a secret, is wiped
 * at once.
 */

static ngx_int_t
ngx_http_agnitel_curl_header(ngx_http_agnitel_fetch_t *f, const char *name,
    ngx_str_t *value)
{
    u_char             *line, *p;
    size_t              len;
    struct curl_slist  *h;

    len = (name ? ngx_strlen(name) + sizeof(": ") - 1 : 0) + value->len + 1;

    line = ngx_pnalloc(f->pool, len);
    if (line == NULL) {
        return NGX_ERROR;
    }

    p = line;

    if (name) {
        p = ngx_sprintf(p, "%s: ", name);
    }

    *ngx_cpymem(p, value->data, value->len) = '\0';

    h = curl_slist_append(f->headers, (char *) line);
    ngx_explicit_memzero(line, len);

    if (h == NULL) {
        return NGX_ERROR;
    }

    f->headers = h;

    return NGX_OK;
}


static size_t
ngx_http_agnitel_curl_write(char *ptr, size_t size, size_t nmemb, void *data)
{
    ngx_http_agnitel_fetch_t  *f = data;

    u_char  *p;
    size_t   len, used, want;

    len = size * nmemb;
    used = f->last - f->call.response.data;

    if (len > (size_t) (f->end - f->last)) {

        if (used + len > NGX_HTTP_AGNITEL_CURL_MAX_RESPONSE) {
            return 0;     /* curl ends the call: CURLE_WRITE_ERROR */
        }

        want = ngx_max(2 * (size_t) (f->end - f->call.response.data),
                       ngx_max(used + len, 4096));
        want = ngx_min(want, NGX_HTTP_AGNITEL_CURL_MAX_RESPONSE);

        p = ngx_pnalloc(f->pool, want);
        if (p == NULL) {
            return 0;
        }

        if (used) {
            ngx_memcpy(p, f->call.response.data, used);
        }

        f->call.response.data = p;
        f->last = p + used;
        f->end = p + want;
    }

    f->last = ngx_cpymem(f->last, ptr, len);

    return len;
}


/* curl's socket callback: which events of socket s to watch */

static int
ngx_http_agnitel_curl_socket(CURL *easy, curl_socket_t s, int what,
    void *userp, void *socketp)
{
    ngx_http_agnitel_curl_t  *cu = userp;
    ngx_connection_t         *c = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (c) {
            ngx_http_agnitel_curl_release(c);
            curl_multi_assign(cu->multi, s, NULL);
        }

        return 0;
    }

    if (c == NULL) {
        c = ngx_get_connection(s, cu->log);
        if (c == NULL) {
            return -1;
        }

        c->data = cu;
        c->read->handler = ngx_http_agnitel_curl_event;
        c->write->handler = ngx_http_agnitel_curl_event;
        c->read->log = cu->log;
        c->write->log = cu->log;

        curl_multi_assign(cu->multi, s, c);
    }

    /* level-triggered: curl reads or writes as much as it wants */

    if (ngx_http_agnitel_curl_watch(c->read, NGX_READ_EVENT,
                                    what & CURL_POLL_IN) != NGX_OK
        || ngx_http_agnitel_curl_watch(c->write, NGX_WRITE_EVENT,
                                       what & CURL_POLL_OUT) != NGX_OK)
    {
        return -1;
    }

    return 0;
}


static ngx_int_t
ngx_http_agnitel_curl_watch(ngx_event_t *ev, ngx_int_t event, ngx_uint_t on)
{
    if (on && !ev->active) {
        return ngx_add_event(ev, event, NGX_LEVEL_EVENT);
    }

    if (!on && ev->active) {
        return ngx_del_event(ev, event, 0);
    }

    return NGX_OK;
}


/*
 * curl is done with the socket for now: it may keep it for the next call,
 * or close it, so it is taken out of epoll but not closed here.
 */

static void
ngx_http_agnitel_curl_release(ngx_connection_t *c)
{
    (void) ngx_http_agnitel_curl_watch(c->read, NGX_READ_EVENT, 0);
    (void) ngx_http_agnitel_curl_watch(c->write, NGX_WRITE_EVENT, 0);

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
}


/* curl's timer callback: -1 stops the timer, 0 asks for "at once" */

static int
ngx_http_agnitel_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    ngx_http_agnitel_curl_t  *cu = userp;

    /* ngx_add_timer() keeps a timer set less than 300 ms apart: not this */

    if (cu->timer.timer_set) {
        ngx_del_timer(&cu->timer);
    }

    if (timeout_ms >= 0) {
        ngx_add_timer(&cu->timer, (ngx_msec_t) timeout_ms);
    }

    return 0;
}


static void
ngx_http_agnitel_curl_event(ngx_event_t *ev)
{
    ngx_connection_t         *c = ev->data;
    ngx_http_agnitel_curl_t  *cu = c->data;

    int  running;

    /* c may be released by the call below: nothing of it is used after */

    (void) curl_multi_socket_action(cu->multi, c->fd,
                                    ev->write ? CURL_CSELECT_OUT
                                              : CURL_CSELECT_IN,
                                    &running);

    ngx_http_agnitel_curl_finished();
}


static void
ngx_http_agnitel_curl_timeout(ngx_event_t *ev)
{
    ngx_http_agnitel_curl_t  *cu = ev->data;

    int  running;

    (void) curl_multi_socket_action(cu->multi, CURL_SOCKET_TIMEOUT, 0,
                                    &running);

    ngx_http_agnitel_curl_finished();
}


/* the calls curl has finished: their outcome, then their callers */

static void
ngx_http_agnitel_curl_finished(void)
{
    ngx_http_agnitel_curl_t  *cu = &ngx_http_agnitel_curl;

    int                        left;
    long                       status;
    CURL                      *easy;
    CURLcode                   result;
    CURLMsg                   *msg;
    ngx_http_agnitel_fetch_t  *f;

    while ((msg = curl_multi_info_read(cu->multi, &left))) {

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        easy = msg->easy_handle;
        result = msg->data.result;

        f = NULL;
        status = 0;

        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &f);
        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);

        f->call.status = (result == CURLE_OK) ? (ngx_uint_t) status : 0;
        f->call.response.len = f->last - f->call.response.data;

        switch (result) {

        case CURLE_OK:
            f->call.rc = NGX_OK;
            break;

        case CURLE_OPERATION_TIMEDOUT:
            f->call.rc = NGX_HTTP_GATEWAY_TIME_OUT;
            break;

        default:
            f->call.rc = NGX_ERROR;
        }

        if (result != CURLE_OK) {
            ngx_log_error(NGX_LOG_WARN, cu->log, 0,
                          "agnitel: carrier call %V: %s",
                          f->url.len ? &f->url : &f->call.path,
                          f->error[0] ? f->error : curl_easy_strerror(result));
        }

        ngx_http_agnitel_curl_free(f);

        f->done(f);
    }
}


static void
ngx_http_agnitel_curl_free(ngx_http_agnitel_fetch_t *f)
{
    struct curl_slist  *h;

    if (f->easy) {
        if (ngx_http_agnitel_curl.multi) {
            (void) curl_multi_remove_handle(ngx_http_agnitel_curl.multi,
                                            f->easy);
        }

        curl_easy_cleanup(f->easy);
        f->easy = NULL;
    }

    /* the Authorization header holds a secret */

    for (h = f->headers; h; h = h->next) {
        ngx_explicit_memzero(h->data, ngx_strlen(h->data));
    }

    curl_slist_free_all(f->headers);
    f->headers = NULL;

    ngx_queue_remove(&f->queue);
}


/* exit_process: calls under way are dropped, without their callbacks */

void
ngx_http_agnitel_curl_done(void)
{
    ngx_http_agnitel_curl_t  *cu = &ngx_http_agnitel_curl;

    ngx_queue_t               *q;
    ngx_http_agnitel_fetch_t  *f;

    if (cu->multi == NULL) {
        return;
    }

    while (!ngx_queue_empty(&cu->fetches)) {
        q = ngx_queue_head(&cu->fetches);
        f = ngx_queue_data(q, ngx_http_agnitel_fetch_t, queue);
        ngx_http_agnitel_curl_free(f);
    }

    if (cu->timer.timer_set) {
        ngx_del_timer(&cu->timer);
    }

    curl_multi_cleanup(cu->multi);
    cu->multi = NULL;

    curl_global_cleanup();
}
