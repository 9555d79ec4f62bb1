// Depthwise convolution on nested arrays: x[n][c][i][j], one filter per channel w[c][a][b].
function depthwiseForward(x, w, stride, pad) {
  const N = x.length, C = x[0].length, H = x[0][0].length, W = x[0][0][0].length;
  const KH = w[0].length, KW = w[0][0].length;
  const OH = Math.floor((H + 2 * pad - KH) / stride) + 1, OW = Math.floor((W + 2 * pad - KW) / stride) + 1;
  const out = [];
  for (let n = 0; n < N; n++) {
    out.push([]);
    for (let c = 0; c < C; c++) {
      const plane = [];
      for (let i = 0; i < OH; i++) {
        const row = [];
        for (let j = 0; j < OW; j++) {
          let t = 0;
          for (let a = 0; a < KH; a++) for (let b = 0; b < KW; b++) {
            const r = i * stride + a - pad, q = j * stride + b - pad;
            if (r >= 0 && r < H && q >= 0 && q < W) t += x[n][c][r][q] * w[c][a][b];
          }
          row.push(t);
        }
        plane.push(row);
      }
      out[n].push(plane);
    }
  }
  return out;
}
module.exports = { depthwiseForward };
