// A decoder's upsampling layer in plain JavaScript: a transposed convolution on nested arrays.
// x[n][ci][i][j], w[ci][co][ki][kj] (torch's order). Input (i, j) with tap (ki, kj) lands on
// output row i * stride + ki - pad, column j * stride + kj - pad.
function zeros4(a, b, c, d) {
  var out = [];
  for (var p = 0; p < a; p++) {
    var m = [];
    for (var q = 0; q < b; q++) {
      var plane = [];
      for (var r = 0; r < c; r++) plane.push(new Array(d).fill(0));
      m.push(plane);
    }
    out.push(m);
  }
  return out;
}

function convTransposeForward(x, w, b, stride, pad) {
  var N = x.length, Cin = x[0].length, H = x[0][0].length, W = x[0][0][0].length;
  var Cout = w[0].length, KH = w[0][0].length, KW = w[0][0][0].length;
  var Ho = (H - 1) * stride - 2 * pad + KH, Wo = (W - 1) * stride - 2 * pad + KW;
  var out = zeros4(N, Cout, Ho, Wo);
  for (var n = 0; n < N; n++)
    for (var co = 0; co < Cout; co++) {
      for (var r = 0; r < Ho; r++)
        for (var c = 0; c < Wo; c++) out[n][co][r][c] = b[co];
      for (var ci = 0; ci < Cin; ci++)
        for (var i = 0; i < H; i++)
          for (var j = 0; j < W; j++)
            for (var ki = 0; ki < KH; ki++)
              for (var kj = 0; kj < KW; kj++) {
                var rr = i * stride + ki - pad;
                var cc = j * stride + kj - pad;
                if (rr >= 0 && rr < Ho && cc >= 0 && cc < Wo) out[n][co][rr][cc] += x[n][ci][i][j] * w[ci][co][ki][kj];
              }
    }
  return out;
}

// The gradients: each output cell the forward wrote sends its gradient back along the same tap.
function convTransposeBackward(dout, x, w, stride, pad) {
  var N = x.length, Cin = x[0].length, H = x[0][0].length, W = x[0][0][0].length;
  var Cout = w[0].length, KH = w[0][0].length, KW = w[0][0][0].length;
  var Ho = dout[0][0].length, Wo = dout[0][0][0].length;
  var dx = zeros4(N, Cin, H, W), dw = zeros4(Cin, Cout, KH, KW), db = new Array(Cout).fill(0);
  for (var n = 0; n < N; n++)
    for (var co = 0; co < Cout; co++) {
      for (var r = 0; r < Ho; r++)
        for (var c = 0; c < Wo; c++) db[co] += dout[n][co][r][c];
      for (var ci = 0; ci < Cin; ci++)
        for (var i = 0; i < H; i++)
          for (var j = 0; j < W; j++)
            for (var ki = 0; ki < KH; ki++)
              for (var kj = 0; kj < KW; kj++) {
                var rr = i * stride + ki - pad;
                var cc = j * stride + kj - pad;
                if (rr >= 0 && rr < Ho && cc >= 0 && cc < Wo) {
                  dx[n][ci][i][j] += dout[n][co][rr][cc] * w[ci][co][ki][kj];
                  dw[ci][co][ki][kj] += dout[n][co][rr][cc] * x[n][ci][i][j];
                }
              }
    }
  return [dx, dw, db];
}
