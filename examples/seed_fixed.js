// A JavaScript port of the question's approach: 2-D correlation with stride s
// and zero padding p on plain nested arrays, and its two gradients.
// This copy has both of the question's slips fixed: corre() reads the filter
// at the tap, f[j][i], and starts each window at the output index times the
// stride, y*s + j - p. Compare with seed_buggy.js.
// Try: corrcheck run examples/seed_fixed.js --stride 2 --pad 1

/**
 * Correlate the input a with the filter f (no flipping).
 * out[y][x] = sum over taps (j, i) of a[y*s + j - p][x*s + i - p] * f[j][i]
 * @param {number[][]} a input
 * @param {number[][]} f filter
 * @param {number} s stride
 * @param {number} p padding on every side
 */
function corre(a, f, s, p) {
  const rows = Math.floor((a.length + 2 * p - f.length) / s) + 1
  const cols = Math.floor((a[0].length + 2 * p - f[0].length) / s) + 1
  const out = []
  for (let y = 0; y < rows; y++) {
    const line = []
    for (let x = 0; x < cols; x++) {
      let total = 0
      for (let j = 0; j < f.length; j++) {
        for (let i = 0; i < f[j].length; i++) {
          const r = y * s + j - p
          const c = x * s + i - p
          if (r >= 0 && r < a.length && c >= 0 && c < a[0].length)
            total += a[r][c] * f[j][i]
        }
      }
      line.push(total)
    }
    out.push(line)
  }
  return out
}

/**
 * Gradient of the loss with respect to the filter, equation (2) of the question:
 * dF[j][i] = sum over outputs (h, k) of dO[h][k] * input[h*s + j - p][k*s + i - p]
 * @param {number} FS filter size (a number, or [rows, cols])
 * @param {number[][]} dO gradient with respect to the output
 * @param {number[][]} input the forward's input
 * @param {number} s stride
 * @param {number} p padding
 */
function backpropFilter(FS, dO, input, s, p) {
  const fh = Array.isArray(FS) ? FS[0] : FS
  const fw = Array.isArray(FS) ? FS[1] : FS
  const dF = []
  for (let j = 0; j < fh; j++) {
    const line = []
    for (let i = 0; i < fw; i++) {
      let total = 0
      for (let h = 0; h < dO.length; h++) {
        for (let k = 0; k < dO[h].length; k++) {
          const r = h * s + j - p
          const c = k * s + i - p
          if (r >= 0 && r < input.length && c >= 0 && c < input[0].length)
            total += dO[h][k] * input[r][c]
        }
      }
      line.push(total)
    }
    dF.push(line)
  }
  return dF
}

/**
 * Gradient of the loss with respect to the input: every output cell hands its
 * gradient back to the input cells its window covered, weighted by the tap.
 * @param {number[][]} dO gradient with respect to the output
 * @param {number[][]} f filter
 * @param {number} s stride
 * @param {number} p padding
 * @param {number} IS input size (a number, or [rows, cols])
 */
function backpropInput(dO, f, s, p, IS) {
  const ih = Array.isArray(IS) ? IS[0] : IS
  const iw = Array.isArray(IS) ? IS[1] : IS
  const dI = Array.from({ length: ih }, () => new Array(iw).fill(0))
  for (let h = 0; h < dO.length; h++) {
    for (let k = 0; k < dO[h].length; k++) {
      for (let j = 0; j < f.length; j++) {
        for (let i = 0; i < f[j].length; i++) {
          const r = h * s + j - p
          const c = k * s + i - p
          if (r >= 0 && r < ih && c >= 0 && c < iw)
            dI[r][c] += dO[h][k] * f[j][i]
        }
      }
    }
  }
  return dI
}
