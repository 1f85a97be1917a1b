
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_PROVIDERS_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_PROVIDERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <lmdb.h>

#include "ngx_http_agnitel_json.h"
#include "ngx_http_agnitel_store.h"


/* the workspace's Twilio account, its token opened for one call */
typedef struct {
    ngx_str_t                       id;
    ngx_str_t                       account_sid;
    ngx_str_t                       authorization;

    /* a subaccount of the platform's: its numbers are paid from credits */
    unsigned                        managed:1;
} ngx_http_agnitel_twilio_account_t;


ngx_int_t ngx_http_agnitel_providers_list(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_providers_twilio(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_providers_delete(ngx_http_request_t *r,
    json_t *body);

ngx_int_t ngx_http_agnitel_twilio_account(ngx_http_request_t *r,
    ngx_http_agnitel_twilio_account_t *account);
ngx_int_t ngx_http_agnitel_twilio_credentials(ngx_pool_t *pool,
    ngx_log_t *log, u_char *secret, ngx_str_t *ws, json_t *prv,
    ngx_http_agnitel_twilio_account_t *account);
ngx_int_t ngx_http_agnitel_providers_terms(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_provider_unlock(ngx_http_request_t *r,
    json_t *body);
int ngx_http_agnitel_provider_managed(ngx_http_request_t *r, MDB_txn *txn,
    ngx_str_t *ws, json_t **prv);
ngx_int_t ngx_http_agnitel_twilio_token(ngx_pool_t *pool, ngx_log_t *log,
    u_char *secret, ngx_str_t *ws, json_t *prv,
    ngx_http_agnitel_twilio_account_t *account, ngx_str_t *token);
ngx_int_t ngx_http_agnitel_provider_token(ngx_pool_t *pool, ngx_log_t *log,
    MDB_txn *txn, ngx_http_agnitel_store_t *store, u_char *secret,
    ngx_str_t *ws, ngx_str_t *id, ngx_http_agnitel_twilio_account_t *account,
    ngx_str_t *token);
int ngx_http_agnitel_provider_find(ngx_http_request_t *r, MDB_txn *txn,
    ngx_str_t *ws, const char *type, json_t **prv);
int ngx_http_agnitel_provider_add(ngx_http_request_t *r, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, const char *type,
    MDB_val *k, MDB_val *v);
void ngx_http_agnitel_provider_view(ngx_http_agnitel_json_t *j, json_t *prv);
int ngx_http_agnitel_provider_get(ngx_pool_t *pool, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *id,
    json_t **prv);


#endif /* _NGX_HTTP_AGNITEL_PROVIDERS_H_INCLUDED_ */
