
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_file.h"
#include "ngx_http_agnitel_http.h"


/* a save under way: the request resumes in "saved" */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_agnitel_file_t        *file;
    ngx_http_agnitel_saved_pt       saved;
    void                           *data;
} ngx_http_agnitel_file_ctx_t;


static void ngx_http_agnitel_file_write(ngx_http_agnitel_file_t *file);
static ngx_int_t ngx_http_agnitel_file_written(ngx_http_request_t *r,
    ngx_http_agnitel_file_t *file);

#if (NGX_THREADS)
static void ngx_http_agnitel_file_thread(void *data, ngx_log_t *log);
static void ngx_http_agnitel_file_thread_done(ngx_event_t *ev);
#endif


/*
 * Returns what "saved" returns, or NGX_DONE while a thread writes: the
 * request is then kept (count, and blocked against a client abort freeing
 * the buffers the thread reads) until "saved" has run.
 */

ngx_int_t
ngx_http_agnitel_file_save(ngx_http_request_t *r,
    ngx_http_agnitel_file_t *file, ngx_http_agnitel_saved_pt saved,
    void *data)
{
#if (NGX_THREADS)
    ngx_thread_task_t             *task;
    ngx_http_agnitel_file_ctx_t   *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (amcf->thread_pool) {
        task = ngx_thread_task_alloc(r->pool,
                                     sizeof(ngx_http_agnitel_file_ctx_t));
        if (task == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx = task->ctx;
        ctx->request = r;
        ctx->file = file;
        ctx->saved = saved;
        ctx->data = data;

        task->handler = ngx_http_agnitel_file_thread;
        task->event.handler = ngx_http_agnitel_file_thread_done;
        task->event.data = ctx;
        task->event.log = r->connection->log;

        if (ngx_thread_task_post(amcf->thread_pool, task) == NGX_OK) {
            r->main->count++;
            r->main->blocked++;
            return NGX_DONE;
        }

        /* the pool's queue is full: write it here, as without threads */
    }
#endif

    ngx_http_agnitel_file_write(file);

    return saved(r, data, ngx_http_agnitel_file_written(r, file));
}


/* no allocation and no log here: this may run in a thread */

static void
ngx_http_agnitel_file_write(ngx_http_agnitel_file_t *file)
{
    u_char    *p, *end;
    ssize_t    n;
    ngx_fd_t   fd;

    file->failed = NULL;

    /* the directories of the file, 0700, should they be missing */

    if (ngx_create_full_path(file->tmp, 0700) != 0) {
        file->failed = "mkdir()";
        file->err = ngx_errno;
        return;
    }

    fd = ngx_open_file(file->tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE, 0600);
    if (fd == NGX_INVALID_FILE) {
        file->failed = ngx_open_file_n;
        file->err = ngx_errno;
        return;
    }

    end = file->data.data + file->data.len;

    for (p = file->data.data; p < end; p += n) {
        n = write(fd, p, end - p);

        if (n == -1 && ngx_errno == NGX_EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            file->failed = "write()";
            file->err = (n == 0) ? NGX_ENOSPC : ngx_errno;
            break;
        }
    }

    if (file->failed == NULL && fsync(fd) == -1) {
        file->failed = "fsync()";
        file->err = ngx_errno;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR && file->failed == NULL) {
        file->failed = ngx_close_file_n;
        file->err = ngx_errno;
    }

    if (file->failed == NULL
        && ngx_rename_file(file->tmp, file->path) == NGX_FILE_ERROR)
    {
        file->failed = ngx_rename_file_n;
        file->err = ngx_errno;
    }

    if (file->failed) {
        (void) ngx_delete_file(file->tmp);
    }
}


/* back in the event loop: NGX_OK, or NGX_ERROR logged */

static ngx_int_t
ngx_http_agnitel_file_written(ngx_http_request_t *r,
    ngx_http_agnitel_file_t *file)
{
    if (file->failed == NULL) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, file->err,
                  "agnitel: storing \"%s\" failed: %s", file->path,
                  file->failed);

    return NGX_ERROR;
}


#if (NGX_THREADS)

static void
ngx_http_agnitel_file_thread(void *data, ngx_log_t *log)
{
    ngx_http_agnitel_file_ctx_t  *ctx = data;

    ngx_http_agnitel_file_write(ctx->file);
}


static void
ngx_http_agnitel_file_thread_done(ngx_event_t *ev)
{
    ngx_http_agnitel_file_ctx_t  *ctx = ev->data;

    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    r->main->blocked--;

    rc = ctx->saved(r, ctx->data, ngx_http_agnitel_file_written(r, ctx->file));

    ngx_http_finalize_request(r, ngx_http_agnitel_done(r, rc));
    ngx_http_run_posted_requests(c);
}

#endif
