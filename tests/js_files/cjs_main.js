'use strict';
const util = require('./cjs_util');
const zeros = util.zeros;             // same name as in cjs_util.js: modules have their own scope

function conv1d(x, w, stride = 1) {
  const n = Math.floor((x.length - w.length) / stride) + 1;
  const out = zeros(n);
  for (let o = 0; o < n; o++)
    for (let k = 0; k < w.length; k++) out[o] += x[o * stride + k] * w[k];
  return out;
}

function hidden() { return 'not exported'; }

module.exports = { conv1d, sum: util.total };
