// Plain script: every way of putting a function in the global scope.
function corre(a, f, s, p) {
  return a.length * 100 + f.length * 10 + s + p
}

var scaled = function (x, k) { return x.map(v => v * k) }

const twice = (a) => a.map(row => row.map(v => 2 * v))

let firstRow = m => m[0]

/** Reads one row past the end: undefined must come back as NaN. */
function readPast(a) {
  return a.map((row, i) => a[i + 1] ? a[i + 1][0] : a[i + 5])
}

function nested() {
  const hidden = 1   // not a top-level name
  return hidden
}

var notAFunction = 42
