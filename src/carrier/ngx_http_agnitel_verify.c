
/*
 * Copyright (C) agnitel
 *
 * Twilio Verify v2, as mobile OTPs use it:
 *
 *   POST /v2/Services/{VA}/Verifications       To, Channel=sms
 *   POST /v2/Services/{VA}/VerificationCheck   To, Code
 *
 * The code travels only in the check's form body: it is in no path, no
 * query and no log line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_verify.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_json.h"


/* Verify's error codes the API tells apart */
#define NGX_HTTP_AGNITEL_VERIFY_NOT_FOUND     20404
#define NGX_HTTP_AGNITEL_VERIFY_TOO_MANY      20429
#define NGX_HTTP_AGNITEL_VERIFY_INVALID       60200
#define NGX_HTTP_AGNITEL_VERIFY_CHECKS_MAX    60202
#define NGX_HTTP_AGNITEL_VERIFY_SENDS_MAX     60203


static ngx_int_t ngx_http_agnitel_verify_path(ngx_pool_t *pool,
    ngx_str_t *service, const char *resource, ngx_http_agnitel_call_t *call);
static void ngx_http_agnitel_verify_err(ngx_http_agnitel_carrier_err_t *err,
    ngx_uint_t status, const char *code, const char *field,
    const char *message);


ngx_int_t
ngx_http_agnitel_verify_send(ngx_pool_t *pool, ngx_str_t *service,
    ngx_str_t *mobile, ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_param_t  form[2];

    form[0].key = "To";
    form[0].value = *mobile;
    form[1].key = "Channel";
    ngx_str_set(&form[1].value, "sms");

    call->method = NGX_HTTP_POST;

    if (ngx_http_agnitel_twilio_encode(pool, form, 2, &call->body) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_verify_path(pool, service, "Verifications", call);
}


ngx_int_t
ngx_http_agnitel_verify_check(ngx_pool_t *pool, ngx_str_t *service,
    ngx_str_t *mobile, ngx_str_t *code, ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_param_t  form[2];

    form[0].key = "To";
    form[0].value = *mobile;
    form[1].key = "Code";
    form[1].value = *code;

    call->method = NGX_HTTP_POST;

    if (ngx_http_agnitel_twilio_encode(pool, form, 2, &call->body) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_verify_path(pool, service, "VerificationCheck",
                                        call);
}


static ngx_int_t
ngx_http_agnitel_verify_path(ngx_pool_t *pool, ngx_str_t *service,
    const char *resource, ngx_http_agnitel_call_t *call)
{
    size_t  len;

    len = sizeof("v2/Services//") - 1 + service->len + ngx_strlen(resource);

    call->path.data = ngx_pnalloc(pool, len);
    if (call->path.data == NULL) {
        return NGX_ERROR;
    }

    call->path.len = ngx_sprintf(call->path.data, "v2/Services/%V/%s",
                                 service, resource)
                     - call->path.data;

    return NGX_OK;
}


/*
 * NGX_OK and the answer's JSON (owned by the pool) for a 2xx; otherwise
 * NGX_DECLINED and the API error:
 *
 *   60200 (invalid parameter)               400 invalid_field mobile
 *   60202, 60203, 20429 (too many)          429 otp_attempts_exceeded
 *   20404, 404 (no pending verification)    410 otp_expired
 *   401, 403 (the platform's credentials)   502 upstream_error
 *   5xx, no answer                          502 upstream_error
 *   timeout                                 504 upstream_timeout
 */

ngx_int_t
ngx_http_agnitel_verify_outcome(ngx_pool_t *pool,
    ngx_http_agnitel_call_t *call, json_t **json,
    ngx_http_agnitel_carrier_err_t *err)
{
    json_t      *body;
    ngx_int_t    code;
    ngx_uint_t   status;

    *json = NULL;
    status = call->status;

    if (call->rc == NGX_HTTP_GATEWAY_TIME_OUT) {
        ngx_http_agnitel_verify_err(err, NGX_HTTP_GATEWAY_TIME_OUT,
                                    "upstream_timeout", NULL,
                                    "the verification service did not "
                                    "answer in time");
        return NGX_DECLINED;
    }

    body = ngx_http_agnitel_carrier_json(pool, call);

    code = json_integer_value(json_object_get(body, "code"));

    if (call->rc != NGX_OK || status == 0 || status >= 500
        || status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN)
    {
        ngx_http_agnitel_verify_err(err, NGX_HTTP_BAD_GATEWAY,
                                    "upstream_error", NULL,
                                    "the verification service failed");
        return NGX_DECLINED;
    }

    if (status >= 200 && status < 300 && body) {
        *json = body;
        return NGX_OK;
    }

    switch (code) {

    case NGX_HTTP_AGNITEL_VERIFY_CHECKS_MAX:
    case NGX_HTTP_AGNITEL_VERIFY_SENDS_MAX:
    case NGX_HTTP_AGNITEL_VERIFY_TOO_MANY:
        ngx_http_agnitel_verify_err(err, NGX_HTTP_TOO_MANY_REQUESTS,
                                    "otp_attempts_exceeded", "mobile",
                                    "too many codes or attempts for this "
                                    "mobile: wait, then ask for a new code");
        return NGX_DECLINED;

    case NGX_HTTP_AGNITEL_VERIFY_INVALID:
        ngx_http_agnitel_verify_err(err, NGX_HTTP_BAD_REQUEST,
                                    "invalid_field", "mobile",
                                    "the verification service refused the "
                                    "mobile number");
        return NGX_DECLINED;
    }

    if (code == NGX_HTTP_AGNITEL_VERIFY_NOT_FOUND
        || status == NGX_HTTP_NOT_FOUND)
    {
        ngx_http_agnitel_verify_err(err, NGX_HTTP_AGNITEL_GONE, "otp_expired",
                                    "code", "the code has expired or was "
                                    "never sent: ask for a new one");
        return NGX_DECLINED;
    }

    ngx_http_agnitel_verify_err(err, NGX_HTTP_BAD_GATEWAY, "upstream_error",
                                NULL, "the verification service's answer "
                                "is not understood");
    return NGX_DECLINED;
}


static void
ngx_http_agnitel_verify_err(ngx_http_agnitel_carrier_err_t *err,
    ngx_uint_t status, const char *code, const char *field,
    const char *message)
{
    err->status = status;
    err->code = code;
    err->field = field;
    err->message = message;
    err->definite = (status < 500);
}
