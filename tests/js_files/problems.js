function spin() { while (true) {} }

function inner(a) {
  return a.missing.length
}

function outer(a) {
  return inner(a)
}

function throwsString() { throw 'plain string' }

function deep(n) { return deep(n + 1) + 1 }

function fine() { return 1 }
