function withNaN() { return [[1, NaN], [Infinity, -Infinity]] }
function sparse() { const a = new Array(3); a[1] = 2; return a }
function typed() { return [Float64Array.from([1.5, 2.5]), new Float32Array(2), new Int32Array([3, 4])] }
function errorAndGrad(actual) { return { dO: actual.map(r => r.map(v => v - 1)), err: 0.25 } }
function nothing() {}
function exact(a) { return a }
function strings() { return ['a', null, true] }
function padInPlace(a, p) {            // writes into its argument, as JavaScript allows
  for (const row of a) { row.unshift(0); row.push(0) }
  a[0][1] = p
  return a.length
}
function chatty(x) { console.log('debug', x); console.error('oops'); return x + 1 }
