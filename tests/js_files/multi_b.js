function forward(a, f, s, p) {
  const out = zeros2d(OUT(a.length, f.length, s, p), OUT(a[0].length, f[0].length, s, p))
  return out.length
}
