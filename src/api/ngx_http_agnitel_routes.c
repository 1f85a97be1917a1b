
/*
 * Copyright (C) agnitel
 *
 * The routing tables of the two content handlers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_routes.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_auth.h"
#include "ngx_http_agnitel_admin.h"
#include "ngx_http_agnitel_billing.h"
#include "ngx_http_agnitel_calls.h"
#include "ngx_http_agnitel_dispatch.h"
#include "ngx_http_agnitel_india.h"
#include "ngx_http_agnitel_kyc.h"
#include "ngx_http_agnitel_numbers.h"
#include "ngx_http_agnitel_purchase.h"
#include "ngx_http_agnitel_providers.h"


static ngx_http_agnitel_route_t  ngx_http_agnitel_api_routes[] = {

    { NGX_HTTP_GET, "phone-numbers",
      ngx_http_agnitel_numbers_list, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_POST, "phone-numbers/import",
      ngx_http_agnitel_numbers_import, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_GET, "phone-numbers/available",
      ngx_http_agnitel_purchase_search, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_POST, "phone-numbers/buy",
      ngx_http_agnitel_purchase_buy, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_POST, "phone-numbers/add-twilio",
      ngx_http_agnitel_purchase_add, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_GET, "phone-numbers/:",
      ngx_http_agnitel_numbers_get, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_PATCH, "phone-numbers/:",
      ngx_http_agnitel_numbers_patch, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_POST, "phone-numbers/:/renew",
      ngx_http_agnitel_number_renew, NGX_HTTP_AGNITEL_BODY_OPTIONAL },

    { NGX_HTTP_DELETE, "phone-numbers/:/release",
      ngx_http_agnitel_numbers_release, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_GET, "billing",
      ngx_http_agnitel_billing_get, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_GET, "billing/ledger",
      ngx_http_agnitel_billing_ledger, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_POST, "calls",
      ngx_http_agnitel_calls_create, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_POST, "dispatch-rules",
      ngx_http_agnitel_rules_create, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_GET, "dispatch-rules",
      ngx_http_agnitel_rules_list, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_DELETE, "dispatch-rules/:",
      ngx_http_agnitel_rules_delete, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_GET, "telephony/terms",
      ngx_http_agnitel_providers_terms, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_GET, "telephony/providers",
      ngx_http_agnitel_providers_list, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_POST, "telephony/providers/twilio",
      ngx_http_agnitel_providers_twilio, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_POST, "telephony/providers/india",
      ngx_http_agnitel_india_create, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_DELETE, "telephony/providers/:",
      ngx_http_agnitel_providers_delete, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_POST, "telephony/india/otp",
      ngx_http_agnitel_india_otp, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_POST, "telephony/india/otp/check",
      ngx_http_agnitel_india_otp_check, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_PUT, "telephony/india/kyc/documents/:",
      ngx_http_agnitel_kyc_document, NGX_HTTP_AGNITEL_BODY_RAW },

    { NGX_HTTP_POST, "telephony/india/kyc",
      ngx_http_agnitel_kyc_submit, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { 0, NULL, NULL, 0 }
};


static ngx_http_agnitel_route_t  ngx_http_agnitel_admin_routes[] = {

    { NGX_HTTP_GET, "workspaces",
      ngx_http_agnitel_workspace_list, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_POST, "workspaces",
      ngx_http_agnitel_workspace_create, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_POST, "workspaces/:/api-keys",
      ngx_http_agnitel_api_key_create, NGX_HTTP_AGNITEL_BODY_OPTIONAL },

    { NGX_HTTP_DELETE, "workspaces/:/api-keys/:",
      ngx_http_agnitel_api_key_revoke, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_POST, "workspaces/:/provider-unlock",
      ngx_http_agnitel_provider_unlock, NGX_HTTP_AGNITEL_BODY_OPTIONAL },

    { NGX_HTTP_POST, "workspaces/:/credits",
      ngx_http_agnitel_credits_topup, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { NGX_HTTP_GET, "jobs",
      ngx_http_agnitel_jobs_list, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_GET, "kyc",
      ngx_http_agnitel_kyc_list, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_GET, "kyc/:/documents/:",
      ngx_http_agnitel_kyc_read, NGX_HTTP_AGNITEL_BODY_NONE },

    { NGX_HTTP_POST, "kyc/:/approve",
      ngx_http_agnitel_kyc_approve, NGX_HTTP_AGNITEL_BODY_OPTIONAL },

    { NGX_HTTP_POST, "kyc/:/reject",
      ngx_http_agnitel_kyc_reject, NGX_HTTP_AGNITEL_BODY_REQUIRED },

    { 0, NULL, NULL, 0 }
};


static ngx_http_agnitel_api_t  ngx_http_agnitel_api = {
    ngx_string("/api/v1/"), ngx_http_agnitel_api_routes, 1
};

static ngx_http_agnitel_api_t  ngx_http_agnitel_admin = {
    ngx_string("/admin/v1/"), ngx_http_agnitel_admin_routes, 0
};


ngx_int_t
ngx_http_agnitel_api_handler(ngx_http_request_t *r)
{
    return ngx_http_agnitel_dispatch(r, &ngx_http_agnitel_api);
}


ngx_int_t
ngx_http_agnitel_admin_handler(ngx_http_request_t *r)
{
    return ngx_http_agnitel_dispatch(r, &ngx_http_agnitel_admin);
}


/*
 * agnitel_dispatch_resolve: one resource, GET only, no API key; answers
 * in the envelope like the API locations.
 */

ngx_int_t
ngx_http_agnitel_resolve_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_agnitel_ctx_new(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->err_status >= NGX_HTTP_BAD_REQUEST) {
        return ngx_http_agnitel_done(r,
                   ngx_http_agnitel_status_error(r, r->err_status));
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_agnitel_done(r,
                   ngx_http_agnitel_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method_not_allowed", NULL,
                                          "only GET is allowed here"));
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return ngx_http_agnitel_done(r, rc);
    }

    return ngx_http_agnitel_done(r, ngx_http_agnitel_resolve(r));
}


/*
 * agnitel_caller_id: for auth_request, its status is all that counts:
 * 204 when the key's workspace may call from X-Agnitel-From, 403 when not,
 * 401 without a valid key.
 */

ngx_int_t
ngx_http_agnitel_caller_id_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_agnitel_ctx_new(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_agnitel_auth(r, ctx->ws, ctx->key_id);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_UNAUTHORIZED;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->workspace.data = ctx->ws;
    ctx->workspace.len = sizeof(ctx->ws);

    return ngx_http_agnitel_caller_id(r);
}
