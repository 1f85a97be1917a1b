
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <lmdb.h>

#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_auth.h"


/* what a bare status means, for the answers that have nothing more to say */

typedef struct {
    ngx_uint_t                      status;
    const char                     *code;
    const char                     *message;
} ngx_http_agnitel_status_t;


static ngx_int_t ngx_http_agnitel_uint_arg(ngx_http_request_t *r,
    const char *name, ngx_uint_t min, ngx_uint_t max, ngx_uint_t *n);
static ngx_int_t ngx_http_agnitel_handle(ngx_http_request_t *r,
    ngx_http_agnitel_api_t *api);
static ngx_http_agnitel_route_t *ngx_http_agnitel_route(
    ngx_http_request_t *r, ngx_http_agnitel_api_t *api, ngx_str_t *path,
    ngx_http_agnitel_ctx_t *ctx);
static ngx_int_t ngx_http_agnitel_match(const char *pattern, ngx_str_t *path,
    ngx_str_t *params);
static ngx_int_t ngx_http_agnitel_not_allowed(ngx_http_request_t *r,
    ngx_http_agnitel_api_t *api, const char *pattern);
static ngx_int_t ngx_http_agnitel_read_body(ngx_http_request_t *r,
    ngx_http_agnitel_route_t *route);
static ngx_int_t ngx_http_agnitel_read_raw(ngx_http_request_t *r,
    ngx_uint_t has_body);
static void ngx_http_agnitel_raw_handler(ngx_http_request_t *r);
static size_t ngx_http_agnitel_raw_max(ngx_http_request_t *r);
static void ngx_http_agnitel_body_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_agnitel_method(ngx_http_request_t *r);
static ngx_http_agnitel_json_t *ngx_http_agnitel_status_reply(
    ngx_http_request_t *r, ngx_uint_t status);
static const char *ngx_http_agnitel_too_large(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_http_agnitel_status_t  ngx_http_agnitel_statuses[] = {
    { NGX_HTTP_BAD_REQUEST, "bad_request", "the request is malformed" },
    { NGX_HTTP_UNAUTHORIZED, "unauthorized", "authentication is required" },
    { NGX_HTTP_FORBIDDEN, "forbidden", "access is denied" },
    { NGX_HTTP_NOT_FOUND, "not_found", "no such resource" },
    { NGX_HTTP_NOT_ALLOWED, "method_not_allowed",
      "method not allowed on this resource" },
    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "payload_too_large", NULL },
    { NGX_HTTP_REQUEST_URI_TOO_LARGE, "uri_too_long",
      "the request URI is too long" },
    { NGX_HTTP_TOO_MANY_REQUESTS, "too_many_requests",
      "too many requests; try again later" },
    { NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable",
      "the service is unavailable; try again later" },
    { 0, NULL, NULL }
};


static ngx_str_t  ngx_http_agnitel_methods[] = {
    ngx_string("GET"),
    ngx_string("POST"),
    ngx_string("PUT"),
    ngx_string("PATCH"),
    ngx_string("DELETE"),
};

static ngx_uint_t  ngx_http_agnitel_method_bits[] = {
    NGX_HTTP_GET,
    NGX_HTTP_POST,
    NGX_HTTP_PUT,
    NGX_HTTP_PATCH,
    NGX_HTTP_DELETE,
};


ngx_int_t
ngx_http_agnitel_dispatch(ngx_http_request_t *r, ngx_http_agnitel_api_t *api)
{
    return ngx_http_agnitel_done(r, ngx_http_agnitel_handle(r, api));
}


/*
 * A status a handler returned instead of answering (a failed allocation,
 * a broken chunked body, one too large) still goes out in the JSON
 * envelope, not as nginx's HTML page.  nginx answers nothing at all to the
 * statuses that close the connection.
 */

ngx_int_t
ngx_http_agnitel_done(ngx_http_request_t *r, ngx_int_t rc)
{
    if (r->header_sent
        || rc < NGX_HTTP_BAD_REQUEST
        || rc == NGX_HTTP_CLOSE
        || rc == NGX_HTTP_REQUEST_TIME_OUT
        || rc == NGX_HTTP_CLIENT_CLOSED_REQUEST)
    {
        return rc;
    }

    return ngx_http_agnitel_status_error(r, rc);
}


static ngx_int_t
ngx_http_agnitel_handle(ngx_http_request_t *r, ngx_http_agnitel_api_t *api)
{
    ngx_int_t                  rc;
    ngx_str_t                  path;
    ngx_http_agnitel_ctx_t    *ctx;
    ngx_http_agnitel_route_t  *route;

    ctx = ngx_http_agnitel_ctx_new(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* sent here by an error_page: the answer is that error */

    if (r->err_status >= NGX_HTTP_BAD_REQUEST) {
        return ngx_http_agnitel_status_error(r, r->err_status);
    }

    path = r->uri;

    if (path.len > 1 && path.data[path.len - 1] == '/') {
        path.len--;
    }

    if (path.len < api->prefix.len
        || ngx_strncmp(path.data, api->prefix.data, api->prefix.len) != 0)
    {
        goto not_found;
    }

    path.data += api->prefix.len;
    path.len -= api->prefix.len;

    if (api->auth) {
        rc = ngx_http_agnitel_auth(r, ctx->ws, ctx->key_id);

        if (rc == NGX_DECLINED) {
            return ngx_http_agnitel_error(r, NGX_HTTP_UNAUTHORIZED,
                                          "unauthorized", NULL,
                                          "a valid API key is required");
        }

        if (rc != NGX_OK) {
            return ngx_http_agnitel_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "internal_error", NULL,
                                          "internal error");
        }

        ctx->workspace.data = ctx->ws;
        ctx->workspace.len = sizeof(ctx->ws);
    }

    route = ngx_http_agnitel_route(r, api, &path, ctx);

    if (route == NULL) {
        goto not_found;
    }

    if (route->method != ngx_http_agnitel_method(r)) {
        return ngx_http_agnitel_not_allowed(r, api, route->pattern);
    }

    ctx->route = route;

    if (route->body == NGX_HTTP_AGNITEL_BODY_NONE) {
        return route->handler(r, NULL);
    }

    return ngx_http_agnitel_read_body(r, route);

not_found:

    return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found", NULL,
                                  "no such resource");
}


/* HEAD is GET without the body: nginx drops the body on the way out */

static ngx_uint_t
ngx_http_agnitel_method(ngx_http_request_t *r)
{
    return (r->method == NGX_HTTP_HEAD) ? NGX_HTTP_GET : r->method;
}


/*
 * Returns the row for the request's method among the rows that share the
 * first matching pattern, or another row of that pattern (for 405).
 */

static ngx_http_agnitel_route_t *
ngx_http_agnitel_route(ngx_http_request_t *r, ngx_http_agnitel_api_t *api,
    ngx_str_t *path, ngx_http_agnitel_ctx_t *ctx)
{
    ngx_uint_t                 method;
    ngx_http_agnitel_route_t  *rt, *found;

    method = ngx_http_agnitel_method(r);
    found = NULL;

    for (rt = api->routes; rt->pattern; rt++) {

        if (found) {
            if (ngx_strcmp(rt->pattern, found->pattern) == 0
                && rt->method == method)
            {
                return rt;
            }

            continue;
        }

        if (ngx_http_agnitel_match(rt->pattern, path, ctx->params) == NGX_OK)
        {
            if (rt->method == method) {
                return rt;
            }

            found = rt;
        }
    }

    return found;
}


static ngx_int_t
ngx_http_agnitel_match(const char *pattern, ngx_str_t *path,
    ngx_str_t *params)
{
    u_char      *p, *end, *seg;
    ngx_uint_t   n;
    const char  *pat;

    p = path->data;
    end = path->data + path->len;
    pat = pattern;
    n = 0;

    for ( ;; ) {
        seg = p;

        while (p < end && *p != '/') {
            p++;
        }

        if (*pat == ':') {
            if (p == seg || n == NGX_HTTP_AGNITEL_MAX_PARAMS) {
                return NGX_DECLINED;
            }

            params[n].data = seg;
            params[n].len = p - seg;
            n++;
            pat++;

        } else {
            while (seg < p && *pat && *pat != '/' && *pat == (char) *seg) {
                seg++;
                pat++;
            }

            if (seg != p || (*pat && *pat != '/')) {
                return NGX_DECLINED;
            }
        }

        if (*pat == '\0') {
            return (p == end) ? NGX_OK : NGX_DECLINED;
        }

        /* both have a "/" here */

        if (p == end) {
            return NGX_DECLINED;
        }

        p++;
        pat++;
    }
}


static ngx_int_t
ngx_http_agnitel_not_allowed(ngx_http_request_t *r,
    ngx_http_agnitel_api_t *api, const char *pattern)
{
    u_char                    *p;
    ngx_uint_t                 i;
    ngx_table_elt_t           *h;
    ngx_http_agnitel_route_t  *rt;

    p = ngx_pnalloc(r->pool, sizeof("GET, HEAD, POST, PATCH, DELETE"));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = p;

    for (i = 0; i < sizeof(ngx_http_agnitel_methods) / sizeof(ngx_str_t); i++) {

        for (rt = api->routes; rt->pattern; rt++) {
            if (rt->method == ngx_http_agnitel_method_bits[i]
                && ngx_strcmp(rt->pattern, pattern) == 0)
            {
                if (p != h->value.data) {
                    p = ngx_cpymem(p, ", ", 2);
                }

                p = ngx_cpymem(p, ngx_http_agnitel_methods[i].data,
                               ngx_http_agnitel_methods[i].len);

                if (rt->method == NGX_HTTP_GET) {
                    p = ngx_cpymem(p, ", HEAD", sizeof(", HEAD") - 1);
                }

                break;
            }
        }
    }

    h->value.len = p - h->value.data;

    return ngx_http_agnitel_error(r, NGX_HTTP_NOT_ALLOWED,
                                  "method_not_allowed", NULL,
                                  "method not allowed on this resource");
}


static ngx_int_t
ngx_http_agnitel_read_body(ngx_http_request_t *r,
    ngx_http_agnitel_route_t *route)
{
    ngx_int_t         rc;
    ngx_str_t        *type;
    ngx_uint_t        has_body;

    has_body = r->headers_in.content_length_n > 0 || r->headers_in.chunked;

    if (route->body == NGX_HTTP_AGNITEL_BODY_RAW) {
        return ngx_http_agnitel_read_raw(r, has_body);
    }

    /* nginx checks client_max_body_size, which the directive lowered */

    if (r->headers_in.content_length_n > NGX_HTTP_AGNITEL_MAX_BODY) {
        return ngx_http_agnitel_status_error(r,
                                        NGX_HTTP_REQUEST_ENTITY_TOO_LARGE);
    }

    if (!has_body) {
        if (route->body == NGX_HTTP_AGNITEL_BODY_OPTIONAL) {
            return route->handler(r, NULL);
        }

        return ngx_http_agnitel_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                      NULL, "a JSON request body is required");
    }

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    if (type == NULL
        || type->len < sizeof("application/json") - 1
        || ngx_strncasecmp(type->data, (u_char *) "application/json",
                           sizeof("application/json") - 1) != 0
        || (type->len > sizeof("application/json") - 1
            && type->data[sizeof("application/json") - 1] != ';'
            && type->data[sizeof("application/json") - 1] != ' '))
    {
        return ngx_http_agnitel_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                      "unsupported_media_type", NULL,
                                      "Content-Type must be application/json");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_agnitel_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * A file as the body, whatever its type (the handler checks it), up to
 * 5 MiB in an agnitel_kyc_documents location, 64 KiB elsewhere.
 */

static ngx_int_t
ngx_http_agnitel_read_raw(ngx_http_request_t *r, ngx_uint_t has_body)
{
    ngx_int_t  rc;

    if (r->headers_in.content_length_n
        > (off_t) ngx_http_agnitel_raw_max(r))
    {
        return ngx_http_agnitel_status_error(r,
                                        NGX_HTTP_REQUEST_ENTITY_TOO_LARGE);
    }

    if (!has_body) {
        return ngx_http_agnitel_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_field", "document",
                                      "the request body is the document, "
                                      "and it is empty");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_agnitel_raw_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_agnitel_raw_handler(ngx_http_request_t *r)
{
    u_char                  *data;
    size_t                   len, max;
    ngx_int_t                rc;
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    max = ngx_http_agnitel_raw_max(r);

    data = ngx_http_agnitel_body(r, max, &len);

    if (data == NULL) {
        rc = (len > max) ? NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
                         : NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else {
        ctx->body.data = data;
        ctx->body.len = len;

        rc = ctx->route->handler(r, NULL);
    }

    ngx_http_finalize_request(r, ngx_http_agnitel_done(r, rc));
}


static size_t
ngx_http_agnitel_raw_max(ngx_http_request_t *r)
{
    ngx_http_agnitel_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_module);

    return alcf->uploads ? NGX_HTTP_AGNITEL_MAX_UPLOAD
                         : NGX_HTTP_AGNITEL_MAX_BODY;
}


static void
ngx_http_agnitel_body_handler(ngx_http_request_t *r)
{
    u_char                  *data;
    size_t                   len;
    json_t                  *body;
    ngx_int_t                rc;
    json_error_t             err;
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    data = ngx_http_agnitel_body(r, NGX_HTTP_AGNITEL_MAX_BODY, &len);

    /* a chunked body has no Content-Length to check up front */

    if (data == NULL && len > NGX_HTTP_AGNITEL_MAX_BODY) {
        rc = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        goto done;
    }

    if (data == NULL) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    ctx->body.data = data;
    ctx->body.len = len;

    body = ngx_http_agnitel_json_flat(data, len);

    if (body == NULL) {
        body = json_loadb((char *) data, len, JSON_REJECT_DUPLICATES, &err);
    }

    if (body == NULL) {
        rc = ngx_http_agnitel_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                    NULL, "request body is not valid JSON");
        goto done;
    }

    if (ngx_http_agnitel_json_own(r->pool, body) != NGX_OK) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    if (!json_is_object(body)) {
        rc = ngx_http_agnitel_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                    NULL, "request body must be a JSON object");
        goto done;
    }

    rc = ctx->route->handler(r, body);

done:

    ngx_http_finalize_request(r, ngx_http_agnitel_done(r, rc));
}


/*
 * The request body in one piece: it may be split over buffers and, past
 * client_body_buffer_size, kept in a temporary file.  NULL with *len over
 * the limit when it is too large.
 */

u_char *
ngx_http_agnitel_body(ngx_http_request_t *r, size_t max, size_t *len)
{
    u_char       *data, *p;
    size_t        size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    size = 0;

    if (r->request_body) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            size += ngx_buf_size(cl->buf);
        }
    }

    *len = size;

    if (size > max) {
        return NULL;
    }

    data = ngx_pnalloc(r->pool, size + 1);
    if (data == NULL) {
        return NULL;
    }

    p = data;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                *len = 0;
                return NULL;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    return data;
}


/* starts {"success":true,"message":"...","data": */

ngx_http_agnitel_json_t *
ngx_http_agnitel_reply(ngx_http_request_t *r, size_t size,
    const char *message)
{
    return ngx_http_agnitel_envelope(r->pool, size, message);
}


/* the same, outside a request: an answer kept for a later replay */

ngx_http_agnitel_json_t *
ngx_http_agnitel_envelope(ngx_pool_t *pool, size_t size, const char *message)
{
    ngx_http_agnitel_json_t  *j;

    j = ngx_palloc(pool, sizeof(ngx_http_agnitel_json_t));
    if (j == NULL) {
        return NULL;
    }

    ngx_http_agnitel_json_init(j, pool, size + 128);
    ngx_http_agnitel_json_lit(j, "{\"success\":true");
    ngx_http_agnitel_json_key(j, "message");
    ngx_http_agnitel_json_str(j, (u_char *) message, ngx_strlen(message));
    ngx_http_agnitel_json_key(j, "data");

    return j;
}


/* the module's context of a request, made by each of its handlers */

ngx_http_agnitel_ctx_t *
ngx_http_agnitel_ctx_new(ngx_http_request_t *r)
{
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_ctx_t));

    if (ctx) {
        ngx_http_set_ctx(r, ctx, ngx_http_agnitel_module);
    }

    return ctx;
}


/* 200 {id, status: "removed"}: what a removal answers */

ngx_int_t
ngx_http_agnitel_removed(ngx_http_request_t *r, const char *message,
    ngx_str_t *id)
{
    ngx_http_agnitel_json_t  *j;

    j = ngx_http_agnitel_reply(r, 128, message);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "id");
    ngx_http_agnitel_json_str(j, id->data, id->len);
    ngx_http_agnitel_json_key(j, "status");
    ngx_http_agnitel_json_lit(j, "\"removed\"}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/* closes the envelope and sends it */

ngx_int_t
ngx_http_agnitel_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_agnitel_json_t *j)
{
    ngx_str_t  text;

    if (ngx_http_agnitel_close(j, &text) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_send_raw(r, status, &text);
}


/* ends an envelope: its text, or NGX_ERROR if it could not be written */

ngx_int_t
ngx_http_agnitel_close(ngx_http_agnitel_json_t *j, ngx_str_t *text)
{
    if (j == NULL) {
        return NGX_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "}\n");

    if (j->failed) {
        return NGX_ERROR;
    }

    text->data = j->start;
    text->len = j->pos - j->start;

    return NGX_OK;
}


/* a JSON answer as it is: a replayed one, or a closed envelope */

ngx_int_t
ngx_http_agnitel_send_raw(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *text)
{
    ngx_int_t                rc;
    ngx_str_t                bad;
    ngx_buf_t               *b;
    ngx_chain_t              out;
    ngx_http_agnitel_ctx_t  *ctx;

    /* answering before the body was read (errors, GET) */

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {

        /*
         * A body that cannot even be skipped ends the connection, as it
         * does for nginx's own answers.  Broken chunked framing (400) is
         * the client's error, and it becomes the answer: no route, key or
         * handler outcome is worth more than "your request is malformed".
         */

        r->keepalive = 0;

        if (rc == NGX_HTTP_BAD_REQUEST
            && ngx_http_agnitel_close(ngx_http_agnitel_status_reply(r, rc),
                                      &bad)
               == NGX_OK)
        {
            status = rc;
            text = &bad;
        }
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = text->data;
    b->last = text->data + text->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    /* the header filter lets the module's own envelopes through */

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    if (ctx) {
        ctx->answered = 1;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = text->len;

    /* JSON, unless the handler sends a file of its own type */

    if (r->headers_out.content_type.len == 0 || status != NGX_HTTP_OK) {
        ngx_str_set(&r->headers_out.content_type, "application/json");
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* starts {"success":false,"message":"...","error":{...} */

ngx_http_agnitel_json_t *
ngx_http_agnitel_error_reply(ngx_http_request_t *r, const char *code,
    const char *field, const char *message)
{
    ngx_http_agnitel_json_t  *j;

    j = ngx_palloc(r->pool, sizeof(ngx_http_agnitel_json_t));
    if (j == NULL) {
        return NULL;
    }

    ngx_http_agnitel_json_init(j, r->pool, 256);
    ngx_http_agnitel_json_lit(j, "{\"success\":false");
    ngx_http_agnitel_json_key(j, "message");
    ngx_http_agnitel_json_str(j, (u_char *) message, ngx_strlen(message));
    ngx_http_agnitel_json_key(j, "error");
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "code");
    ngx_http_agnitel_json_str(j, (u_char *) code, ngx_strlen(code));

    if (field) {
        ngx_http_agnitel_json_key(j, "field");
        ngx_http_agnitel_json_str(j, (u_char *) field, ngx_strlen(field));
    }

    ngx_http_agnitel_json_lit(j, "}");

    return j;
}


ngx_int_t
ngx_http_agnitel_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *field, const char *message)
{
    return ngx_http_agnitel_send(r, status,
                                 ngx_http_agnitel_error_reply(r, code, field,
                                                              message));
}


/* the envelope of a bare status: code and message from the table */

ngx_int_t
ngx_http_agnitel_status_error(ngx_http_request_t *r, ngx_uint_t status)
{
    return ngx_http_agnitel_send(r, status,
                                 ngx_http_agnitel_status_reply(r, status));
}


static ngx_http_agnitel_json_t *
ngx_http_agnitel_status_reply(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_http_agnitel_status_t  *s;

    for (s = ngx_http_agnitel_statuses; s->status; s++) {
        if (s->status == status) {
            break;
        }
    }

    if (status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return ngx_http_agnitel_error_reply(r, s->code, NULL,
                                            ngx_http_agnitel_too_large(r));
    }

    if (s->status) {
        return ngx_http_agnitel_error_reply(r, s->code, NULL, s->message);
    }

    if (status < NGX_HTTP_INTERNAL_SERVER_ERROR) {
        return ngx_http_agnitel_error_reply(r, "bad_request", NULL,
                                            "the request cannot be served");
    }

    return ngx_http_agnitel_error_reply(r, "internal_error", NULL,
                                        "internal error; nothing was saved");
}


/* the limit is the module's 64 KiB, or client_max_body_size if lower */

static const char *
ngx_http_agnitel_too_large(ngx_http_request_t *r)
{
    off_t                      max;
    u_char                    *msg;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    max = clcf->client_max_body_size;

    if (max == 0 || max >= (off_t) ngx_http_agnitel_raw_max(r)) {
        return (ngx_http_agnitel_raw_max(r) == NGX_HTTP_AGNITEL_MAX_UPLOAD)
               ? "a document is at most 5 MiB"
               : "request body is over 64 KiB";
    }

    msg = ngx_pnalloc(r->pool, sizeof("request body is over  bytes")
                               + NGX_OFF_T_LEN);
    if (msg == NULL) {
        return "request body is too large";
    }

    ngx_sprintf(msg, "request body is over %O bytes%Z", max);

    return (const char *) msg;
}


ngx_int_t
ngx_http_agnitel_invalid(ngx_http_request_t *r, const char *field,
    const char *message)
{
    return ngx_http_agnitel_error(r, NGX_HTTP_BAD_REQUEST, "invalid_field",
                                  field, message);
}


/* the transaction has been aborted by the caller */

ngx_int_t
ngx_http_agnitel_store_error(ngx_http_request_t *r, int rc)
{
    if (rc == MDB_MAP_FULL) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                      "agnitel_store is full: raise map_size");

        return ngx_http_agnitel_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                      "storage_full", NULL,
                                      "the store is full; nothing was saved");
    }

    if (rc == NGX_HTTP_AGNITEL_UNSYNCED) {
        return ngx_http_agnitel_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal_error", NULL,
                                      "the store took the change but could "
                                      "not confirm it is on disk");
    }

    if (rc == NGX_HTTP_AGNITEL_ORPHANED) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "agnitel_store: the worker committing a write of "
                      "this request stopped before it told the outcome");

        return ngx_http_agnitel_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal_error", NULL,
                                      "a worker stopped while saving the "
                                      "change: read it back to learn "
                                      "whether it was saved");
    }

    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                  "agnitel_store: %s", mdb_strerror(rc));

    return ngx_http_agnitel_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", NULL,
                                  "the store failed; nothing was saved");
}


/* a request header by name, NULL when absent */

ngx_str_t *
ngx_http_agnitel_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i].value;
        }
    }
}


/* a query argument, percent-decoded; NGX_DECLINED when absent */

/*
 * limit (1 to 200, 50 when absent) and offset (0 and up) of a list: NULL,
 * or what is wrong and *field naming it
 */

const char *
ngx_http_agnitel_page(ngx_http_request_t *r, ngx_uint_t *limit,
    ngx_uint_t *offset, const char **field)
{
    ngx_int_t  rc;

    *offset = 0;

    rc = ngx_http_agnitel_uint_arg(r, "limit", 1, NGX_HTTP_AGNITEL_LIST_MAX,
                                   limit);

    if (rc == NGX_DECLINED) {
        *limit = NGX_HTTP_AGNITEL_LIST_LIMIT;

    } else if (rc != NGX_OK) {
        *field = "limit";
        return "limit must be an integer from 1 to 200";
    }

    rc = ngx_http_agnitel_uint_arg(r, "offset", 0, NGX_MAX_INT32_VALUE,
                                   offset);

    if (rc != NGX_OK && rc != NGX_DECLINED) {
        *field = "offset";
        return "offset must be an integer of 0 or more";
    }

    return NULL;
}


/* NGX_OK, NGX_DECLINED when absent, NGX_ERROR when not in [min, max] */

static ngx_int_t
ngx_http_agnitel_uint_arg(ngx_http_request_t *r, const char *name,
    ngx_uint_t min, ngx_uint_t max, ngx_uint_t *n)
{
    ngx_int_t  v;
    ngx_str_t  s;

    if (ngx_http_agnitel_arg(r, name, &s) != NGX_OK) {
        return NGX_DECLINED;
    }

    v = ngx_atoi(s.data, s.len);

    if (v == NGX_ERROR || (ngx_uint_t) v < min || (ngx_uint_t) v > max) {
        return NGX_ERROR;
    }

    *n = v;

    return NGX_OK;
}


ngx_int_t
ngx_http_agnitel_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    u_char     *dst, *src;
    ngx_str_t   raw;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_DECLINED;
    }

    dst = ngx_pnalloc(r->pool, raw.len);
    if (dst == NULL && raw.len) {
        return NGX_ERROR;
    }

    value->data = dst;
    src = raw.data;

    ngx_unescape_uri(&dst, &src, raw.len, 0);

    value->len = dst - value->data;

    return NGX_OK;
}


/*
 * A text field of a request body: a UTF-8 string (jansson checks that) of
 * 1 to max characters, no control characters.  Returns NULL when it is fine
 * or absent and optional (out->data is NULL then), else what is wrong.
 */

const char *
ngx_http_agnitel_text(ngx_pool_t *pool, json_t *body, const char *name,
    size_t max, ngx_uint_t required, ngx_str_t *out)
{
    u_char      *p, *msg;
    size_t       chars;
    json_t      *v;
    ngx_uint_t   i;

    out->data = NULL;
    out->len = 0;

    v = json_object_get(body, name);

    if (v == NULL || json_is_null(v)) {
        if (!required) {
            return NULL;
        }

        goto invalid;
    }

    if (!json_is_string(v)) {
        goto invalid;
    }

    p = (u_char *) json_string_value(v);
    chars = 0;

    for (i = 0; i < json_string_length(v); i++) {

        /* this also rejects the NUL that "\u0000" decodes to */

        if (p[i] < 0x20 || p[i] == 0x7f) {
            goto invalid;
        }

        /* count characters, not UTF-8 continuation bytes */

        if ((p[i] & 0xc0) != 0x80) {
            chars++;
        }
    }

    if (chars == 0 || chars > max) {
        goto invalid;
    }

    out->data = p;
    out->len = json_string_length(v);

    return NULL;

invalid:

    msg = ngx_pnalloc(pool, ngx_strlen(name) + 80);
    if (msg == NULL) {
        return "invalid field";
    }

    ngx_sprintf(msg, "%s must be a string of 1 to %uz characters "
                "without control characters%Z", name, max);

    return (const char *) msg;
}


/*
 * A money member of the request body in micro-units, read exactly from the
 * body's text: jansson would pass it through a double.  Returns NULL when
 * it is fine, or absent and optional (*micros is -1 then), else what is
 * wrong.
 */

const char *
ngx_http_agnitel_money(ngx_http_request_t *r, const char *name,
    ngx_uint_t required, int64_t *micros)
{
    u_char                  *msg;
    ngx_int_t                rc;
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    *micros = -1;

    if (ctx == NULL || ctx->body.data == NULL) {
        rc = NGX_DECLINED;

    } else {
        rc = ngx_http_agnitel_json_money_member(ctx->body.data,
                                                ctx->body.len, name, micros);
    }

    if (rc == NGX_OK || (rc == NGX_DECLINED && !required)) {
        return NULL;
    }

    msg = ngx_pnalloc(r->pool, ngx_strlen(name) + 160);
    if (msg == NULL) {
        return "invalid money amount";
    }

    if (rc == NGX_DECLINED) {
        ngx_sprintf(msg, "%s is required%Z", name);

    } else {
        ngx_sprintf(msg, "%s must be a JSON number such as 1.15, with at "
                    "most 12 digits before the point and 6 after it, and "
                    "no sign, exponent or quotes%Z", name);
    }

    return (const char *) msg;
}


/*
 * Every error answer of an agnitel_api or agnitel_admin location is the
 * JSON envelope, also those nginx makes itself before or around the
 * handler: 413 over client_max_body_size, 400 for a broken chunked body,
 * 401 and 403 from auth_basic or deny, 503 from limit_req.  Their HTML
 * page is swapped for the envelope of the same status; the status and the
 * other headers (WWW-Authenticate, Allow) stay.  Twilio's webhooks get a
 * TwiML reject instead: Twilio reads no JSON.
 */

ngx_int_t
ngx_http_agnitel_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_agnitel_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_agnitel_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_agnitel_header_filter(ngx_http_request_t *r)
{
    ngx_http_agnitel_ctx_t       *ctx;
    ngx_http_agnitel_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_module);

    if (!alcf->envelope
        || r != r->main
        || r->headers_out.status < NGX_HTTP_BAD_REQUEST)
    {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    if (ctx && ctx->answered) {
        return ngx_http_next_header_filter(r);
    }

    /* nginx's answer may come before the handler ever ran */

    if (ctx == NULL) {
        ctx = ngx_http_agnitel_ctx_new(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }
    }

    if (alcf->twiml) {
        ngx_str_set(&ctx->envelope, NGX_HTTP_AGNITEL_TWIML_BUSY);
        ngx_str_set(&r->headers_out.content_type, "text/xml");

    } else {
        if (ngx_http_agnitel_close(
                ngx_http_agnitel_status_reply(r, r->headers_out.status),
                &ctx->envelope)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_str_set(&r->headers_out.content_type, "application/json");
    }

    ctx->replace = 1;

    r->headers_out.content_length_n = ctx->envelope.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    return ngx_http_next_header_filter(r);
}


/* drops nginx's page and sends the envelope in its place, once */

static ngx_int_t
ngx_http_agnitel_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t               *b;
    ngx_chain_t             *cl, out;
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    if (ctx == NULL || !ctx->replace || r->header_only) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->replaced) {
        return ngx_http_next_body_filter(r, NULL);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->envelope.data;
    b->last = ctx->envelope.data + ctx->envelope.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    ctx->replaced = 1;

    return ngx_http_next_body_filter(r, &out);
}
