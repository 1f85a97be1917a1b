
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_DISPATCH_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_DISPATCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <lmdb.h>

#include "ngx_http_agnitel_store.h"


const char *ngx_http_agnitel_agent_id(ngx_pool_t *pool, json_t *body,
    ngx_str_t *agent);
ngx_int_t ngx_http_agnitel_rules_create(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_rules_list(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_rules_delete(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_resolve(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_caller_id(ngx_http_request_t *r);
int ngx_http_agnitel_rule_drop(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    ngx_str_t *number);


#endif /* _NGX_HTTP_AGNITEL_DISPATCH_H_INCLUDED_ */
