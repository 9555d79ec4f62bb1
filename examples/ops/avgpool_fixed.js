// Average pooling in plain JavaScript, window k x k, stride s, zero padding pad on every side:
// each window is divided by the number of input cells it covers (padding does not count).
function avgPoolForward(x, k, s, pad) {
  var out = [];
  for (var n = 0; n < x.length; n++) {
    var maps = [];
    for (var c = 0; c < x[n].length; c++) {
      var H = x[n][c].length, W = x[n][c][0].length;
      var Ho = Math.floor((H + 2 * pad - k) / s) + 1, Wo = Math.floor((W + 2 * pad - k) / s) + 1;
      var plane = [];
      for (var i = 0; i < Ho; i++) {
        var row = [];
        for (var j = 0; j < Wo; j++) {
          var r0 = Math.max(i * s - pad, 0), r1 = Math.min(i * s - pad + k, H);
          var c0 = Math.max(j * s - pad, 0), c1 = Math.min(j * s - pad + k, W);
          var total = 0;
          for (var r = r0; r < r1; r++)
            for (var q = c0; q < c1; q++) total += x[n][c][r][q];
          var count = (r1 - r0) * (c1 - c0);
          row.push(total / count);
        }
        plane.push(row);
      }
      maps.push(plane);
    }
    out.push(maps);
  }
  return out;
}

function avgPoolBackward(dout, x, k, s, pad) {
  var dx = x.map(function (img) { return img.map(function (p) { return p.map(function (r) { return r.map(function () { return 0; }); }); }); });
  for (var n = 0; n < dout.length; n++)
    for (var c = 0; c < dout[n].length; c++) {
      var H = x[n][c].length, W = x[n][c][0].length;
      for (var i = 0; i < dout[n][c].length; i++)
        for (var j = 0; j < dout[n][c][i].length; j++) {
          var r0 = Math.max(i * s - pad, 0), r1 = Math.min(i * s - pad + k, H);
          var c0 = Math.max(j * s - pad, 0), c1 = Math.min(j * s - pad + k, W);
          var count = (r1 - r0) * (c1 - c0);
          for (var r = r0; r < r1; r++)
            for (var q = c0; q < c1; q++) dx[n][c][r][q] += dout[n][c][i][j] / count;
        }
    }
  return dx;
}
