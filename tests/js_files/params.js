function withDefaults(dO, FS = 3, stride = 1, pad = 'same', scale = 0.5, opts = {a: [1, 2]}, flag = true) {
  return [FS, stride, pad, scale, opts, flag]
}

function destructured({stride, pad} = {}, [h, w], ...rest) {
  return [stride, pad, h, w, rest.length]
}

const arrowDefaults = (x, y = x.length /* a comment, with a comma */, z = (1, 2)) => [x.length, y, z]

async function later(a) { return a }

function keywordsTest(a, b, c = 7) { return [a, b === undefined ? 'undefined' : b, c] }
