
/*
 * Copyright (C) agnitel
 *
 * The subrequest transport for carrier calls.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_upstream.h"
#include "ngx_http_agnitel_http.h"


static ngx_int_t ngx_http_agnitel_call_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_agnitel_call_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_call_headers(ngx_http_request_t *sr,
    ngx_http_agnitel_call_t *call);
static ngx_int_t ngx_http_agnitel_authorization_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_agnitel_authorization =
    ngx_string("agnitel_upstream_authorization");


/*
 * Starts the call and returns NGX_DONE; the request is finalized by the
 * resume handler.  Anything else is an error status to answer with.
 */

ngx_int_t
ngx_http_agnitel_call(ngx_http_request_t *r, ngx_http_agnitel_call_t *call)
{
    ngx_str_t                     uri, *prefix;
    ngx_http_request_t           *sr;
    ngx_http_agnitel_ctx_t       *ctx, *sctx;
    ngx_http_post_subrequest_t   *ps;
    ngx_http_agnitel_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_module);

    prefix = call->prefix ? call->prefix : &alcf->twilio_api;

    if (prefix->len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "agnitel: a carrier call needs \"%s\"",
                      call->prefix == NULL ? "agnitel_twilio_api"
                      : call->prefix == &alcf->india_api ? "agnitel_india_api"
                      : "agnitel_verify_api");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    uri.len = prefix->len + call->path.len;
    uri.data = ngx_pnalloc(r->pool, uri.len);
    if (uri.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ngx_cpymem(uri.data, prefix->data, prefix->len),
               call->path.data, call->path.len);

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ps->handler = ngx_http_agnitel_call_done;
    ps->data = call;

    if (ngx_http_subrequest(r, &uri, &call->args, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_ctx_t));
    if (sctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx->call = call;
    ngx_http_set_ctx(sr, sctx, ngx_http_agnitel_module);

    if (ngx_http_agnitel_call_headers(sr, call) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    ctx->call = call;

    /*
     * The request waits for the subrequest: one more reference, dropped
     * when the resume handler finalizes it.
     */

    r->main->count++;

    return NGX_DONE;
}


/*
 * The subrequest sees none of the client's headers: only what the call
 * sets reaches the carrier, whatever proxy_pass_request_headers says.
 */

static ngx_int_t
ngx_http_agnitel_call_headers(ngx_http_request_t *sr,
    ngx_http_agnitel_call_t *call)
{
    ngx_buf_t                 *b;
    ngx_http_request_body_t   *rb;

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&sr->headers_in.headers, sr->pool, 2,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;

    switch (call->method) {

    case NGX_HTTP_POST:
        ngx_str_set(&sr->method_name, "POST");
        break;

    case NGX_HTTP_DELETE:
        ngx_str_set(&sr->method_name, "DELETE");
        break;

    default:
        ngx_str_set(&sr->method_name, "GET");
        break;
    }

    sr->method = call->method;

    rb = ngx_pcalloc(sr->pool, sizeof(ngx_http_request_body_t));
    if (rb == NULL) {
        return NGX_ERROR;
    }

    sr->request_body = rb;

    if (call->body.len == 0) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(sr->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = call->body.data;
    b->last = call->body.data + call->body.len;
    b->memory = 1;
    b->last_buf = 1;

    rb->bufs = ngx_alloc_chain_link(sr->pool);
    if (rb->bufs == NULL) {
        return NGX_ERROR;
    }

    rb->bufs->buf = b;
    rb->bufs->next = NULL;

    sr->headers_in.content_length_n = call->body.len;

    return NGX_OK;
}


/*
 * Runs on the subrequest each time it is finalized.  An nginx-side failure
 * (timeout, refused, a body over subrequest_output_buffer_size) is kept and
 * the subrequest then ends as done: the error page nginx would make of it
 * is not wanted, and NGX_ERROR would take the client's request down too.
 */

static ngx_int_t
ngx_http_agnitel_call_done(ngx_http_request_t *r, void *data, ngx_int_t rc)
{
    ngx_http_agnitel_call_t  *call = data;

    ngx_buf_t  *b;

    r->parent->write_event_handler = ngx_http_agnitel_call_resume;

    if (call->rc != NGX_OK) {
        return NGX_OK;
    }

    if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        call->rc = (rc == NGX_ERROR) ? NGX_HTTP_BAD_GATEWAY : rc;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "agnitel call failed: %i", rc);
        return NGX_OK;
    }

    call->status = r->headers_out.status;

    if (r->out && r->out->buf) {
        b = r->out->buf;
        call->response.data = b->pos;
        call->response.len = b->last - b->pos;

    }

    /*
     * An answer over subrequest_output_buffer_size makes nginx flag the
     * shared connection as failed, which would take the client's request
     * down with it: the call fails with a 502 instead, and a pending
     * purchase is still recorded.  Were the client really gone, the next
     * write to it finds out.
     */

    if (r->connection->error) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "agnitel: the carrier's answer was cut short: is it "
                      "over subrequest_output_buffer_size?");
        r->connection->error = 0;
        call->rc = NGX_HTTP_BAD_GATEWAY;
        return NGX_OK;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "agnitel call done: status:%ui size:%uz",
                   call->status, call->response.len);

    return rc;
}


static void
ngx_http_agnitel_call_resume(ngx_http_request_t *r)
{
    ngx_http_agnitel_ctx_t   *ctx;
    ngx_http_agnitel_call_t  *call;

    r->write_event_handler = ngx_http_request_empty_handler;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    call = ctx->call;
    ctx->call = NULL;

    if (call == NULL) {
        return;
    }

    ngx_http_finalize_request(r, ngx_http_agnitel_done(r, call->resume(r,
                                                                   call)));
}


ngx_int_t
ngx_http_agnitel_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_agnitel_authorization,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_agnitel_authorization_variable;

    return NGX_OK;
}


/* the carrier credentials, only inside the subrequest of a call */

static ngx_int_t
ngx_http_agnitel_authorization_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_agnitel_ctx_t   *ctx;
    ngx_http_agnitel_call_t  *call;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    if (r == r->main || ctx == NULL || ctx->call == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    call = ctx->call;

    v->data = call->authorization.data;
    v->len = call->authorization.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
