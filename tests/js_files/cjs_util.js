'use strict';
const zeros = (n) => new Array(n).fill(0);
exports.zeros = zeros;
exports.total = function total(a) { return a.reduce((s, v) => s + v, 0); };
