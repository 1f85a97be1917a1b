
/*
 * Copyright (C) agnitel
 *
 * agnitel_console: the Phone Numbers page, for the users of the API.  Its
 * files (console/ in the source tree) are compiled into the module by
 * "config", so that the page always matches the API it calls and an
 * operator installs nothing but the module.  It is plain HTML, CSS and
 * JavaScript, sent with a Content-Security-Policy that allows nothing but
 * this origin: no inline script, no other host.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_console.h"


static ngx_int_t ngx_http_agnitel_console_config(ngx_http_request_t *r,
    ngx_str_t *out);
static ngx_int_t ngx_http_agnitel_console_headers(ngx_http_request_t *r);


#define NGX_HTTP_AGNITEL_CONSOLE_CSP                                         \
    "default-src 'self'; script-src 'self'; style-src 'self'; "              \
    "img-src 'self' data:; connect-src 'self'; form-action 'none'; "         \
    "frame-ancestors 'none'; base-uri 'none'"


/*
 * The request's last path segment names the file, whatever the location's
 * prefix: "" is the page, "config.json" what the page needs to know of the
 * configuration.
 */

ngx_int_t
ngx_http_agnitel_console_handler(ngx_http_request_t *r)
{
    u_char                            *p, *last;
    ngx_int_t                          rc;
    ngx_str_t                          name, body;
    ngx_buf_t                         *b;
    ngx_chain_t                        out;
    const ngx_http_agnitel_asset_t    *a;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    last = r->uri.data + r->uri.len;

    for (p = last; p > r->uri.data && p[-1] != '/'; p--) {
        /* void */
    }

    name.data = p;
    name.len = last - p;

    if (name.len == 0) {
        ngx_str_set(&name, "index.html");
    }

    if (name.len == sizeof("config.json") - 1
        && ngx_strncmp(name.data, "config.json", name.len) == 0)
    {
        if (ngx_http_agnitel_console_config(r, &body) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_str_set(&r->headers_out.content_type, "application/json");

    } else {
        for (a = ngx_http_agnitel_console_assets; a->name; a++) {
            if (ngx_strlen(a->name) == name.len
                && ngx_strncmp(a->name, name.data, name.len) == 0)
            {
                break;
            }
        }

        if (a->name == NULL) {
            return NGX_HTTP_NOT_FOUND;
        }

        body.data = (u_char *) a->data;
        body.len = a->len;
        r->headers_out.content_type.data = (u_char *) a->type;
        r->headers_out.content_type.len = ngx_strlen(a->type);
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = body.len;

    if (ngx_http_agnitel_console_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body.data;
    b->last = body.data + body.len;
    b->memory = 1;
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* {"api": "/api/v1/", "sip_termination_uri": ...}: the page's settings */

static ngx_int_t
ngx_http_agnitel_console_config(ngx_http_request_t *r, ngx_str_t *out)
{
    size_t                         len;
    uintptr_t                      escape;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    /* a URI has no quote nor backslash: sip_uri checked its characters */

    escape = ngx_escape_json(NULL, amcf->sip_termination_uri.data,
                             amcf->sip_termination_uri.len);

    len = sizeof("{\"api\":\"/api/v1/\",\"sip_termination_uri\":\"\"}") - 1
          + amcf->sip_termination_uri.len + escape;

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_sprintf(out->data, "{\"api\":\"/api/v1/\","
                                      "\"sip_termination_uri\":\"")
               - out->data;

    out->len = (u_char *) ngx_escape_json(out->data + out->len,
                                          amcf->sip_termination_uri.data,
                                          amcf->sip_termination_uri.len)
               - out->data;

    out->len = ngx_cpymem(out->data + out->len, "\"}", 2) - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_agnitel_console_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    static ngx_str_t  headers[][2] = {
        { ngx_string("Content-Security-Policy"),
          ngx_string(NGX_HTTP_AGNITEL_CONSOLE_CSP) },
        { ngx_string("X-Content-Type-Options"), ngx_string("nosniff") },
        { ngx_string("Referrer-Policy"), ngx_string("no-referrer") },
        { ngx_string("Cache-Control"), ngx_string("no-cache") },
    };

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key = headers[i][0];
        h->value = headers[i][1];
    }

    return NGX_OK;
}
