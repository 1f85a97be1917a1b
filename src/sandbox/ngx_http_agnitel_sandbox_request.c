
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_json.h"
#include "ngx_http_agnitel_sandbox_request.h"


static const char  *const ngx_http_agnitel_sandbox_week[] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

static const char  *const ngx_http_agnitel_sandbox_months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};


/* "(415) 555-0100" for NANP numbers, the E.164 itself elsewhere */

size_t
ngx_http_agnitel_sandbox_format(u_char *dst, ngx_str_t *number)
{
    u_char  *d;

    d = number->data;

    if (number->len == 12 && d[1] == '1') {
        return ngx_sprintf(dst, "(%*s) %*s-%*s", (size_t) 3, d + 2,
                           (size_t) 3, d + 5, (size_t) 4, d + 8)
               - dst;
    }

    return ngx_cpymem(dst, d, ngx_min(number->len,
                                      NGX_HTTP_AGNITEL_SANDBOX_E164_MAX))
           - dst;
}


/* RFC 2822, as Twilio writes dates: "Thu, 30 Jul 2015 23:19:04 +0000" */

u_char *
ngx_http_agnitel_sandbox_date(u_char *buf, time_t t)
{
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    return ngx_sprintf(buf, "%s, %02d %s %4d %02d:%02d:%02d +0000",
                       ngx_http_agnitel_sandbox_week[tm.ngx_tm_wday],
                       tm.ngx_tm_mday,
                       ngx_http_agnitel_sandbox_months[tm.ngx_tm_mon - 1],
                       tm.ngx_tm_year, tm.ngx_tm_hour, tm.ngx_tm_min,
                       tm.ngx_tm_sec);
}


/*
 * A query argument, form-decoded ("+" is a space) into pool memory:
 * NGX_OK, NGX_DECLINED when absent (value->data NULL), NGX_ERROR.
 */

ngx_int_t
ngx_http_agnitel_sandbox_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_str_t  raw;

    ngx_str_null(value);

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_DECLINED;
    }

    value->data = ngx_pnalloc(r->pool, raw.len + 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, raw.data, raw.len);
    value->len = ngx_http_agnitel_sandbox_unescape(value->data, raw.len);

    return NGX_OK;
}


/* "true" asks for a capability; "false" or nothing does not filter */

ngx_uint_t
ngx_http_agnitel_sandbox_flag(ngx_http_request_t *r, const char *name)
{
    ngx_str_t  v;

    return ngx_http_agnitel_sandbox_arg(r, name, &v) == NGX_OK
           && ngx_http_agnitel_sandbox_caseeq(&v, "true");
}


/* application/x-www-form-urlencoded decoding in place; returns the length */

size_t
ngx_http_agnitel_sandbox_unescape(u_char *p, size_t len)
{
    u_char     *dst, *end, *start;
    ngx_int_t   c;

    start = p;
    dst = p;
    end = p + len;

    while (p < end) {

        if (*p == '+') {
            *dst++ = ' ';
            p++;
            continue;
        }

        if (*p == '%' && end - p >= 3) {
            c = ngx_hextoi(p + 1, 2);

            if (c != NGX_ERROR) {
                *dst++ = (u_char) c;
                p += 3;
                continue;
            }
        }

        *dst++ = *p++;
    }

    return dst - start;
}


/*
 * The named fields of a form body, each the first of its name, decoded in
 * place; others are ignored.  NGX_DECLINED for a body over the limit.
 */

ngx_int_t
ngx_http_agnitel_sandbox_form(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_field_t *fields)
{
    u_char                            *body, *p, *end, *amp, *eq;
    size_t                             len;
    ngx_str_t                          key, val;
    ngx_http_agnitel_sandbox_field_t  *f;

    for (f = fields; f->name; f++) {
        ngx_str_null(f->value);
    }

    body = ngx_http_agnitel_body(r, NGX_HTTP_AGNITEL_SANDBOX_BODY_MAX, &len);

    if (body == NULL) {
        return (len > NGX_HTTP_AGNITEL_SANDBOX_BODY_MAX) ? NGX_DECLINED
                                                         : NGX_ERROR;
    }

    end = body + len;

    for (p = body; p < end; p = amp + 1) {

        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        eq = ngx_strlchr(p, amp, '=');
        if (eq == NULL) {
            continue;
        }

        /* in place: a decoded text is never longer than its encoding */

        key.data = p;
        key.len = ngx_http_agnitel_sandbox_unescape(p, eq - p);
        val.data = eq + 1;
        val.len = ngx_http_agnitel_sandbox_unescape(eq + 1, amp - eq - 1);

        for (f = fields; f->name; f++) {
            if (f->value->data == NULL
                && ngx_http_agnitel_sandbox_eq(&key, f->name))
            {
                *f->value = val;
                break;
            }
        }
    }

    return NGX_OK;
}


/* an http or https URL Twilio would call */

ngx_int_t
ngx_http_agnitel_sandbox_url(ngx_str_t *url)
{
    if (ngx_http_agnitel_sandbox_text(url, NGX_HTTP_AGNITEL_SANDBOX_URL_MAX)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (url->len > 7
        && ngx_strncasecmp(url->data, (u_char *) "http://", 7) == 0)
    {
        return NGX_OK;
    }

    if (url->len > 8
        && ngx_strncasecmp(url->data, (u_char *) "https://", 8) == 0)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* UTF-8 of 1 to max characters, no control characters */

ngx_int_t
ngx_http_agnitel_sandbox_text(ngx_str_t *s, size_t max)
{
    u_char      *p, *end;
    uint32_t     c;
    ngx_uint_t   chars;

    p = s->data;
    end = s->data + s->len;
    chars = 0;

    while (p < end) {

        if (*p < 0x80) {
            if (*p < 0x20 || *p == 0x7f) {
                return NGX_DECLINED;
            }

            p++;

        } else {
            c = ngx_utf8_decode(&p, end - p);

            if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
                return NGX_DECLINED;
            }
        }

        chars++;
    }

    return (chars > 0 && chars <= max) ? NGX_OK : NGX_DECLINED;
}


ngx_uint_t
ngx_http_agnitel_sandbox_eq(ngx_str_t *s, const char *v)
{
    return s->len == ngx_strlen(v)
           && ngx_strncmp(s->data, v, s->len) == 0;
}


ngx_uint_t
ngx_http_agnitel_sandbox_caseeq(ngx_str_t *s, const char *v)
{
    return s->len == ngx_strlen(v)
           && ngx_strncasecmp(s->data, (u_char *) v, s->len) == 0;
}


/* Twilio's error body: {"code":..., "message":..., "more_info":..., ...} */

ngx_int_t
ngx_http_agnitel_sandbox_error(ngx_http_request_t *r, ngx_uint_t status,
    ngx_uint_t code, const char *message)
{
    u_char   more[sizeof(NGX_HTTP_AGNITEL_SANDBOX_ERRORS) + NGX_INT_T_LEN];
    size_t   len;
    json_t  *json;

    len = ngx_sprintf(more, NGX_HTTP_AGNITEL_SANDBOX_ERRORS "%ui", code)
          - more;

    json = json_pack("{s:i,s:s,s:s%,s:i}",
                     "code", (int) code,
                     "message", message,
                     "more_info", more, len,
                     "status", (int) status);

    return ngx_http_agnitel_sandbox_send_json(r, status, json);
}


ngx_int_t
ngx_http_agnitel_sandbox_bad_request(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_err_t *err)
{
    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST, err->code,
                                          err->message);
}


ngx_int_t
ngx_http_agnitel_sandbox_unauthorized(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    ngx_str_set(&h->value, "Basic realm=\"Twilio API\"");

    r->headers_out.www_authenticate = h;

    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_UNAUTHORIZED, 20003,
                                          "Authenticate");
}


/* Twilio names the path; a path that is not plain text is not repeated */

ngx_int_t
ngx_http_agnitel_sandbox_not_found(ngx_http_request_t *r)
{
    u_char      *msg;
    ngx_uint_t   i;

    for (i = 0; i < r->uri.len; i++) {
        if (r->uri.data[i] < 0x20 || r->uri.data[i] > 0x7e) {
            return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_NOT_FOUND,
                                                  20404,
                                                  "The requested resource "
                                                  "was not found");
        }
    }

    msg = ngx_pnalloc(r->pool, r->uri.len + sizeof("The requested resource "
                                                   " was not found"));
    if (msg == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    ngx_sprintf(msg, "The requested resource %V was not found%Z", &r->uri);

    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_NOT_FOUND, 20404,
                                          (const char *) msg);
}


ngx_int_t
ngx_http_agnitel_sandbox_not_allowed(ngx_http_request_t *r,
    const char *allow)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = (u_char *) allow;
    h->value.len = ngx_strlen(allow);

    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_NOT_ALLOWED, 20004,
                                          "Method not allowed");
}


ngx_int_t
ngx_http_agnitel_sandbox_internal(ngx_http_request_t *r)
{
    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          20500, "Internal Server Error");
}


/* a write to the sandbox's store failed: an alert, and a 500 */

ngx_int_t
ngx_http_agnitel_sandbox_store_failed(ngx_http_request_t *r, int rc)
{
    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                  "agnitel sandbox: store: %s", mdb_strerror(rc));

    return ngx_http_agnitel_sandbox_internal(r);
}


/* sends json and releases it; NULL (jansson out of memory) is a 500 */

ngx_int_t
ngx_http_agnitel_sandbox_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    ngx_int_t  rc;
    MDB_val    text;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_agnitel_json_dump(r->pool, json, &text);

    json_decref(json);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_sandbox_send(r, status, text.mv_data,
                                         text.mv_size);
}


/* a 204 goes out as headers only: nginx's header filter sees to it */

ngx_int_t
ngx_http_agnitel_sandbox_send(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len)
{
    ngx_str_t  text;

    text.data = data;
    text.len = len;

    return ngx_http_agnitel_send_raw(r, status, &text);
}


/*
 * A write transaction of the sandbox's, and json's text to put in it
 * (free() it), or NULL when either cannot be had.
 */

MDB_txn *
ngx_http_agnitel_sandbox_write(ngx_http_request_t *r, json_t *json,
    char **text, ngx_http_agnitel_store_t **store)
{
    MDB_txn  *txn;

    *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    *store = ngx_http_agnitel_sandbox_store(r);

    txn = (*text && *store)
          ? ngx_http_agnitel_store_write(*store, r->connection->log) : NULL;

    if (txn == NULL) {
        free(*text);
    }

    return txn;
}


/* opened by every worker in init_process; NULL only if that failed */

ngx_http_agnitel_store_t *
ngx_http_agnitel_sandbox_store(ngx_http_request_t *r)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (amcf->store == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "agnitel sandbox: the store is not open");
    }

    return amcf->store;
}
