
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_exotel.h"


static ngx_int_t ngx_http_agnitel_exotel_path(ngx_pool_t *pool,
    ngx_str_t *out, ngx_str_t *sid, const char *fmt, ...);


/* "local" -> "Landline", as the carrier names its number types */
static const char  *ngx_http_agnitel_exotel_types[] = {
    NULL, "Landline", "Mobile", "TollFree"
};


/*
 * GET v2_beta/Accounts/{sid}/AvailablePhoneNumbers/IN/{type}; the caller
 * sets the query (InRegion, Contains, IncomingSMS)
 */

ngx_int_t
ngx_http_agnitel_exotel_search(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_uint_t type, ngx_http_agnitel_call_t *call)
{
    call->method = NGX_HTTP_GET;
    ngx_str_null(&call->body);

    return ngx_http_agnitel_exotel_path(pool, &call->path, sid,
                                        "/AvailablePhoneNumbers/IN/%s",
                                        ngx_http_agnitel_exotel_types[type]);
}


/* POST v2_beta/Accounts/{sid}/IncomingPhoneNumbers PhoneNumber&VoiceUrl&... */

ngx_int_t
ngx_http_agnitel_exotel_buy(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_http_agnitel_param_t *form, ngx_uint_t n,
    ngx_http_agnitel_call_t *call)
{
    call->method = NGX_HTTP_POST;
    ngx_str_null(&call->args);

    if (ngx_http_agnitel_twilio_encode(pool, form, n, &call->body) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_exotel_path(pool, &call->path, sid,
                                        "/IncomingPhoneNumbers");
}


/*
 * GET v2_beta/Accounts/{sid}/IncomingPhoneNumbers?PhoneNumber=N: whether
 * the account owns N, asked when a purchase's outcome is unknown.  The
 * answer is a page of the account's numbers; a carrier that ignores the
 * filter answers a page that goes on (next_page_uri), and absence from it
 * proves nothing.
 */

ngx_int_t
ngx_http_agnitel_exotel_lookup(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_str_t *number, ngx_http_agnitel_call_t *call)
{
    if (ngx_http_agnitel_carrier_lookup(pool, number, call) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_exotel_path(pool, &call->path, sid,
                                        "/IncomingPhoneNumbers");
}


/* DELETE v2_beta/Accounts/{sid}/IncomingPhoneNumbers/{number_sid} */

ngx_int_t
ngx_http_agnitel_exotel_release(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_str_t *number_sid, ngx_http_agnitel_call_t *call)
{
    call->method = NGX_HTTP_DELETE;
    ngx_str_null(&call->args);
    ngx_str_null(&call->body);

    return ngx_http_agnitel_exotel_path(pool, &call->path, sid,
                                        "/IncomingPhoneNumbers/%V",
                                        number_sid);
}


/*
 * The carrier's answer as an API error, by its status, for DESIGN's
 * "Carrier errors": the same API errors as Twilio's answers get.  The
 * account is the platform's, so a refusal of its credentials is nothing
 * the client can fix: 502, not provider_auth_failed.
 */

ngx_int_t
ngx_http_agnitel_exotel_outcome(ngx_pool_t *pool,
    ngx_http_agnitel_call_t *call, ngx_uint_t op, json_t **json,
    ngx_http_agnitel_carrier_err_t *err)
{
    json_t      *body;
    ngx_uint_t   status;

    *json = NULL;

    if (ngx_http_agnitel_carrier_reached(call, err) != NGX_OK) {
        return NGX_DECLINED;
    }

    status = call->status;
    body = ngx_http_agnitel_carrier_json(pool, call);

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

    if (status >= 500) {
        ngx_http_agnitel_carrier_err(err, NGX_HTTP_BAD_GATEWAY,
                                     "upstream_error", "the carrier failed",
                                     0);
        return NGX_DECLINED;
    }

    if (status == NGX_HTTP_NOT_FOUND
        && (op == NGX_HTTP_AGNITEL_EXOTEL_SEARCH
            || op == NGX_HTTP_AGNITEL_EXOTEL_RELEASE))
    {
        /* no numbers found, or the number gone from the carrier already */
        return NGX_OK;
    }

    if ((status == NGX_HTTP_NOT_FOUND || status == NGX_HTTP_CONFLICT)
        && op == NGX_HTTP_AGNITEL_EXOTEL_BUY)
    {
        ngx_http_agnitel_carrier_err(err, NGX_HTTP_CONFLICT,
                                     "number_unavailable",
                                     "the number is not available", 1);
        return NGX_DECLINED;
    }

    if ((status == NGX_HTTP_BAD_REQUEST
         || status == NGX_HTTP_AGNITEL_UNPROCESSABLE)
        && op != NGX_HTTP_AGNITEL_EXOTEL_LOOKUP)
    {
        ngx_http_agnitel_carrier_err(err, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                     "invalid_number",
                                     "the carrier says the number or the "
                                     "search is invalid", 1);
        return NGX_DECLINED;
    }

    ngx_http_agnitel_carrier_err(err, NGX_HTTP_BAD_GATEWAY, "upstream_error",
                                 (status == NGX_HTTP_UNAUTHORIZED
                                  || status == NGX_HTTP_FORBIDDEN)
                                 ? "the platform's account at the Indian "
                                   "carrier refused the request"
                                 : "the carrier refused the request", 1);
    return NGX_DECLINED;
}


/* the answer to op (NGX_HTTP_AGNITEL_TWILIO_*) by its carrier's rules */

ngx_int_t
ngx_http_agnitel_carrier_outcome(ngx_uint_t india, ngx_pool_t *pool,
    ngx_http_agnitel_call_t *call, ngx_uint_t op, json_t **json,
    ngx_http_agnitel_carrier_err_t *err)
{
    if (india) {
        return ngx_http_agnitel_exotel_outcome(pool, call, op, json, err);
    }

    return ngx_http_agnitel_twilio_outcome(pool, call, op, json, err);
}


/* the account's entry for number on a page of a lookup, or NULL */

json_t *
ngx_http_agnitel_exotel_listed(json_t *page, ngx_str_t *number,
    ngx_uint_t *complete)
{
    json_t  *next;

    next = json_object_get(page, "next_page_uri");
    *complete = !(json_is_string(next) && json_string_length(next));

    return ngx_http_agnitel_twilio_listed(page, number);
}


/* the available numbers of a search: a bare array, or under a key */

json_t *
ngx_http_agnitel_exotel_list(json_t *json)
{
    if (json_is_array(json)) {
        return json;
    }

    return json_object_get(json, "available_phone_numbers");
}


static ngx_int_t
ngx_http_agnitel_exotel_path(ngx_pool_t *pool, ngx_str_t *out,
    ngx_str_t *sid, const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    va_start(args, fmt);
    rc = ngx_http_agnitel_carrier_path(pool, out, "v2_beta", sid, fmt, args);
    va_end(args);

    return rc;
}
