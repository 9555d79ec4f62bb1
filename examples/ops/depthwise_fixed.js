// A MobileNet block's depthwise convolution in plain JavaScript, with a channel multiplier M:
// filter w[f][0][a][e] (F = C * M filters of one channel each); input channel c feeds the M output
// channels f = c * M + m (torch's conv2d with groups = C).
function depthwiseConvForward(x, w, b, stride, pad) {
  var N = x.length, C = x[0].length, H = x[0][0].length, W = x[0][0][0].length;
  var F = w.length, KH = w[0][0].length, KW = w[0][0][0].length, M = F / C;
  var Ho = Math.floor((H + 2 * pad - KH) / stride) + 1, Wo = Math.floor((W + 2 * pad - KW) / stride) + 1;
  var out = [];
  for (var n = 0; n < N; n++) {
    var maps = new Array(F);
    for (var c = 0; c < C; c++)
      for (var m = 0; m < M; m++) {
        var f = c * M + m;
        var plane = [];
        for (var i = 0; i < Ho; i++) {
          var row = [];
          for (var j = 0; j < Wo; j++) {
            var total = b[f];
            for (var a = 0; a < KH; a++)
              for (var e = 0; e < KW; e++) {
                var r = i * stride + a - pad, q = j * stride + e - pad;
                if (r >= 0 && r < H && q >= 0 && q < W) total += x[n][c][r][q] * w[f][0][a][e];
              }
            row.push(total);
          }
          plane.push(row);
        }
        maps[f] = plane;
      }
    out.push(maps);
  }
  return out;
}
