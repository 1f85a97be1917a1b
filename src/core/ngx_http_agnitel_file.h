
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_FILE_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_FILE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * A file written whole and durably: to a temporary name beside it, synced,
 * then renamed into place, so that a crash leaves either no file or all of
 * it.  With threads the writing runs in nginx's default thread pool, so
 * that a worker never waits for a disk while it has requests to serve.
 */

typedef struct {
    u_char                         *path;      /* null-terminated */
    u_char                         *tmp;       /* null-terminated */
    ngx_str_t                       data;

    /* set by the save: the call that failed, and its errno */
    const char                     *failed;
    ngx_err_t                       err;
} ngx_http_agnitel_file_t;


/* what a request does once the file is saved (NGX_OK) or not (NGX_ERROR) */
typedef ngx_int_t (*ngx_http_agnitel_saved_pt)(ngx_http_request_t *r,
    void *data, ngx_int_t rc);


ngx_int_t ngx_http_agnitel_file_save(ngx_http_request_t *r,
    ngx_http_agnitel_file_t *file, ngx_http_agnitel_saved_pt saved,
    void *data);


#endif /* _NGX_HTTP_AGNITEL_FILE_H_INCLUDED_ */
