
/*
 * Copyright (C) agnitel
 *
 * Twilio's REST API (2010-04-01) without a transport.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_twilio.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_json.h"


#define NGX_HTTP_AGNITEL_TWILIO_AUTH              20003
#define NGX_HTTP_AGNITEL_TWILIO_NOT_FOUND         20404
#define NGX_HTTP_AGNITEL_TWILIO_INVALID_NUMBER    21421
#define NGX_HTTP_AGNITEL_TWILIO_UNAVAILABLE       21422
#define NGX_HTTP_AGNITEL_TWILIO_NONE_FOUND        21452
#define NGX_HTTP_AGNITEL_TWILIO_INVALID_AREA      21451


/*
 * application/x-www-form-urlencoded, for bodies and query strings alike:
 * everything but unreserved characters is %XX, so "+1415..." goes out as
 * "%2B1415...".  Empty values are left out.
 */

ngx_int_t
ngx_http_agnitel_twilio_encode(ngx_pool_t *pool,
    ngx_http_agnitel_param_t *params, ngx_uint_t n, ngx_str_t *out)
{
    u_char      *p, c;
    size_t       len;
    ngx_uint_t   i, k;

    static u_char  hex[] = "0123456789ABCDEF";

    len = 0;

    for (i = 0; i < n; i++) {
        len += ngx_strlen(params[i].key) + 2 + 3 * params[i].value.len;
    }

    out->data = ngx_pnalloc(pool, len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < n; i++) {

        if (params[i].value.len == 0) {
            continue;
        }

        if (p != out->data) {
            *p++ = '&';
        }

        p = ngx_cpymem(p, params[i].key, ngx_strlen(params[i].key));
        *p++ = '=';

        for (k = 0; k < params[i].value.len; k++) {
            c = params[i].value.data[k];

            if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
                *p++ = c;

            } else {
                *p++ = '%';
                *p++ = hex[c >> 4];
                *p++ = hex[c & 0xf];
            }
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}


/* "Basic " base64(AccountSid ":" AuthToken) */

ngx_int_t
ngx_http_agnitel_twilio_basic(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_str_t *token, ngx_str_t *out)
{
    ngx_str_t  plain, enc;

    plain.len = sid->len + 1 + token->len;
    plain.data = ngx_pnalloc(pool, plain.len);
    if (plain.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(plain.data, "%V:%V", sid, token);

    out->len = sizeof("Basic ") - 1 + ngx_base64_encoded_length(plain.len);
    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    enc.data = ngx_cpymem(out->data, "Basic ", sizeof("Basic ") - 1);
    ngx_encode_base64(&enc, &plain);

    ngx_explicit_memzero(plain.data, plain.len);

    return NGX_OK;
}


/*
 * "2010-04-01/Accounts/" SID and the rest, from a format of ngx_sprintf():
 * the path below the agnitel_twilio_api prefix.
 */

ngx_int_t
ngx_http_agnitel_twilio_path(ngx_pool_t *pool, ngx_str_t *out,
    ngx_str_t *sid, const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    va_start(args, fmt);
    rc = ngx_http_agnitel_carrier_path(pool, out, "2010-04-01", sid, fmt,
                                       args);
    va_end(args);

    return rc;
}


/* root "/Accounts/" sid, then fmt: the path of a carrier's resource */

ngx_int_t
ngx_http_agnitel_carrier_path(ngx_pool_t *pool, ngx_str_t *out,
    const char *root, ngx_str_t *sid, const char *fmt, va_list args)
{
    u_char  *p;

    out->data = ngx_pnalloc(pool, 256);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_slprintf(out->data, out->data + 256, "%s/Accounts/%V", root,
                     sid);
    p = ngx_vslprintf(p, out->data + 256, fmt, args);

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * GET .../IncomingPhoneNumbers.json?PhoneNumber=N: whether the account
 * owns N, asked when a purchase's outcome is unknown.
 */

ngx_int_t
ngx_http_agnitel_twilio_lookup(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_str_t *number, ngx_http_agnitel_call_t *call)
{
    if (ngx_http_agnitel_carrier_lookup(pool, number, call) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_twilio_path(pool, &call->path, sid,
                                        "/IncomingPhoneNumbers.json");
}


/* GET ?PhoneNumber=N, a carrier's lookup of a number: the caller's path */

ngx_int_t
ngx_http_agnitel_carrier_lookup(ngx_pool_t *pool, ngx_str_t *number,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_param_t  query;

    query.key = "PhoneNumber";
    query.value = *number;

    call->method = NGX_HTTP_GET;
    ngx_str_null(&call->body);

    return ngx_http_agnitel_twilio_encode(pool, &query, 1, &call->args);
}


/*
 * GET .../IncomingPhoneNumbers.json?PageSize=1000, the account's numbers a
 * page at a time: "next" is the last page's next_page_uri, NULL for the
 * first.  NGX_DECLINED: "next" is not a page of the same list.
 */

ngx_int_t
ngx_http_agnitel_twilio_list(ngx_pool_t *pool, ngx_str_t *sid,
    const char *next, ngx_http_agnitel_call_t *call)
{
    u_char     *q;
    size_t      len;
    ngx_str_t   first;

    call->method = NGX_HTTP_GET;
    ngx_str_null(&call->body);

    if (ngx_http_agnitel_twilio_path(pool, &first, sid,
                                     "/IncomingPhoneNumbers.json")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (next == NULL) {
        call->path = first;
        ngx_str_set(&call->args, "PageSize=1000");
        return NGX_OK;
    }

    len = ngx_strlen(next);

    if (len < 1 + first.len || next[0] != '/'
        || ngx_strncmp(next + 1, first.data, first.len) != 0
        || (len > 1 + first.len && next[1 + first.len] != '?'))
    {
        return NGX_DECLINED;
    }

    call->path = first;

    q = (u_char *) next + 1 + first.len;
    call->args.len = (len > 1 + first.len) ? len - 1 - first.len - 1 : 0;
    call->args.data = ngx_pnalloc(pool, call->args.len + 1);

    if (call->args.data == NULL) {
        return NGX_ERROR;
    }

    if (call->args.len) {
        ngx_memcpy(call->args.data, q + 1, call->args.len);
    }

    return NGX_OK;
}


/* DELETE .../IncomingPhoneNumbers/{sid}.json: the number leaves the account */

ngx_int_t
ngx_http_agnitel_twilio_release(ngx_pool_t *pool, ngx_str_t *account,
    ngx_str_t *sid, ngx_http_agnitel_call_t *call)
{
    call->method = NGX_HTTP_DELETE;
    ngx_str_null(&call->args);
    ngx_str_null(&call->body);

    return ngx_http_agnitel_twilio_path(pool, &call->path, account,
                                        "/IncomingPhoneNumbers/%V.json", sid);
}


/* the entry for number in a page of incoming numbers, or NULL */

json_t *
ngx_http_agnitel_twilio_listed(json_t *page, ngx_str_t *number)
{
    size_t       i;
    json_t      *entry;
    const char  *n;

    json_array_foreach(json_object_get(page, "incoming_phone_numbers"),
                       i, entry)
    {
        n = ngx_http_agnitel_twilio_str(entry, "phone_number");

        if (n && ngx_strlen(n) == number->len
            && ngx_strncmp(n, number->data, number->len) == 0)
        {
            return entry;
        }
    }

    return NULL;
}


/* a carrier's answer as JSON owned by the pool, or NULL */

json_t *
ngx_http_agnitel_carrier_json(ngx_pool_t *pool, ngx_http_agnitel_call_t *call)
{
    json_t  *body;

    if (call->rc != NGX_OK || call->response.len == 0) {
        return NULL;
    }

    body = json_loadb((char *) call->response.data, call->response.len, 0,
                      NULL);

    /* an object; or an array, as the Indian carrier lists numbers */

    if (body && ((!json_is_object(body) && !json_is_array(body))
                 || ngx_http_agnitel_json_own(pool, body) != NGX_OK))
    {
        json_decref(body);
        body = NULL;
    }

    return body;
}


/*
 * Whether the call reached the carrier and got an answer, any answer; if
 * not, the error, whose outcome is unknown: the carrier may have acted.
 */

ngx_int_t
ngx_http_agnitel_carrier_reached(ngx_http_agnitel_call_t *call,
    ngx_http_agnitel_carrier_err_t *err)
{
    if (call->rc == NGX_HTTP_GATEWAY_TIME_OUT) {
        ngx_http_agnitel_carrier_err(err, NGX_HTTP_GATEWAY_TIME_OUT,
                                     "upstream_timeout",
                                     "the carrier did not answer in time",
                                     0);
        return NGX_DECLINED;
    }

    if (call->rc != NGX_OK || call->status == 0) {
        ngx_http_agnitel_carrier_err(err, NGX_HTTP_BAD_GATEWAY,
                                     "upstream_error",
                                     "the carrier could not be reached", 0);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Classifies the answer to a call, following DESIGN's carrier table.
 * NGX_OK: the carrier did it (*json is its answer, NULL for no body, or
 * for a search that found nothing).  NGX_DECLINED: *err says what to
 * answer, and whether the carrier surely did nothing.
 */

ngx_int_t
ngx_http_agnitel_twilio_outcome(ngx_pool_t *pool,
    ngx_http_agnitel_call_t *call, ngx_uint_t op, json_t **json,
    ngx_http_agnitel_carrier_err_t *err)
{
    json_t      *body;
    ngx_int_t    code;
    ngx_uint_t   status;

    *json = NULL;

    if (ngx_http_agnitel_carrier_reached(call, err) != NGX_OK) {
        return NGX_DECLINED;
    }

    status = call->status;
    body = ngx_http_agnitel_carrier_json(pool, call);

    code = json_integer_value(json_object_get(body, "code"));

    if (status >= 200 && status < 300) {

        if (body == NULL && status != NGX_HTTP_NO_CONTENT) {
            ngx_http_agnitel_carrier_err(err, NGX_HTTP_BAD_GATEWAY,
                                         "upstream_error",
                                         "the carrier's answer is malformed",
                                         0);
            return NGX_DECLINED;
        }

        *json = body;
        return NGX_OK;
    }

    if (status >= 500 || (body == NULL && status != NGX_HTTP_NOT_FOUND)) {
        ngx_http_agnitel_carrier_err(err, NGX_HTTP_BAD_GATEWAY,
                                     "upstream_error",
                                     "the carrier failed", 0);
        return NGX_DECLINED;
    }

    if ((status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN
         || code == NGX_HTTP_AGNITEL_TWILIO_AUTH)
        && (op == NGX_HTTP_AGNITEL_TWILIO_SUBACCOUNT
            || op == NGX_HTTP_AGNITEL_TWILIO_CLOSE))
    {
        /* the platform's own credentials: nothing the client can fix */

        ngx_http_agnitel_carrier_err(err, NGX_HTTP_BAD_GATEWAY,
                                     "upstream_error",
                                     "the platform's Twilio account refused "
                                     "the request", 1);
        return NGX_DECLINED;
    }

    if (status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN
        || code == NGX_HTTP_AGNITEL_TWILIO_AUTH
        || (status == NGX_HTTP_NOT_FOUND
            && op == NGX_HTTP_AGNITEL_TWILIO_CONNECT))
    {
        ngx_http_agnitel_carrier_err(err, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                     "provider_auth_failed",
                                     "the carrier refused the credentials", 1);
        return NGX_DECLINED;
    }

    if (code == NGX_HTTP_AGNITEL_TWILIO_NONE_FOUND
        && op == NGX_HTTP_AGNITEL_TWILIO_SEARCH)
    {
        return NGX_OK;
    }

    if (code == NGX_HTTP_AGNITEL_TWILIO_UNAVAILABLE
        || code == NGX_HTTP_AGNITEL_TWILIO_NONE_FOUND)
    {
        ngx_http_agnitel_carrier_err(err, NGX_HTTP_CONFLICT,
                                     "number_unavailable",
                                     "the number is not available", 1);
        return NGX_DECLINED;
    }

    if (code == NGX_HTTP_AGNITEL_TWILIO_INVALID_NUMBER
        || code == NGX_HTTP_AGNITEL_TWILIO_INVALID_AREA)
    {
        ngx_http_agnitel_carrier_err(err, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                     "invalid_number",
                                     "the carrier says the number or area "
                                     "code is invalid", 1);
        return NGX_DECLINED;
    }

    if (status == NGX_HTTP_NOT_FOUND) {

        if (op == NGX_HTTP_AGNITEL_TWILIO_RELEASE
            || op == NGX_HTTP_AGNITEL_TWILIO_CLOSE)
        {
            /* already gone at the carrier */
            return NGX_OK;
        }

        if (op == NGX_HTTP_AGNITEL_TWILIO_FETCH) {
            ngx_http_agnitel_carrier_err(err, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                         "invalid_number",
                                         "number_sid is not a number of the "
                                         "connected Twilio account", 1);
            err->field = "number_sid";
            return NGX_DECLINED;
        }
    }

    ngx_http_agnitel_carrier_err(err, NGX_HTTP_BAD_GATEWAY, "upstream_error",
                                 "the carrier refused the request", 1);
    return NGX_DECLINED;
}


void
ngx_http_agnitel_carrier_err(ngx_http_agnitel_carrier_err_t *err,
    ngx_uint_t status, const char *code, const char *message,
    ngx_uint_t definite)
{
    err->status = status;
    err->code = code;
    err->field = NULL;
    err->message = message;
    err->definite = definite;
}


/*
 * Twilio spells capabilities "voice"/"sms" on incoming numbers and
 * "voice"/"SMS" on available ones; either is accepted, and so are the
 * strings "true"/"false" some proxies turn booleans into.
 */

ngx_uint_t
ngx_http_agnitel_twilio_capability(json_t *caps, const char *name)
{
    json_t      *v;
    const char  *key;
    void        *it;

    for (it = json_object_iter(caps); it;
         it = json_object_iter_next(caps, it))
    {
        key = json_object_iter_key(it);

        if (ngx_strcasecmp((u_char *) key, (u_char *) name) == 0) {
            v = json_object_iter_value(it);

            return json_is_true(v)
                   || (json_is_string(v)
                       && ngx_strcmp(json_string_value(v), "true") == 0);
        }
    }

    return 0;
}


/* a string member, NULL when absent, null or not a string */

const char *
ngx_http_agnitel_twilio_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}


/* Twilio SIDs: two capitals and 32 hex characters */

ngx_int_t
ngx_http_agnitel_twilio_sid_valid(ngx_str_t *sid, const char *prefix)
{
    ngx_uint_t  i;

    if (sid->len != 34 || ngx_strncmp(sid->data, prefix, 2) != 0) {
        return NGX_DECLINED;
    }

    for (i = 2; i < sid->len; i++) {
        if (!isxdigit(sid->data[i])) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}
