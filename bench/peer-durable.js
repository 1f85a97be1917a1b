// Preloaded into the Node.js peer by bench/import.pl when
// BENCH_PEER_DURABLE=1: lmdb-js then opens its store without
// overlappingSync, so that a write's promise, and the peer's answer, wait
// for the commit's sync, as agnitel's answer does.  By default lmdb-js
// resolves a write once committed and syncs it to disk afterwards.
//
//   node -r bench/peer-durable.js ../shared/peer-node/server.js PORT DIR
'use strict';
const path = require('node:path');

const lmdb = require(require.resolve('lmdb', {
  paths: [path.dirname(path.resolve(process.argv[1]))],
}));
const open = lmdb.open;

lmdb.open = (where, options) => typeof where === 'object'
  ? open({ ...where, overlappingSync: false })
  : open(where, { ...options, overlappingSync: false });
