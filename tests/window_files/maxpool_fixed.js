// Max pooling on nested arrays x[n][c][i][j], window k x k, stride s, no padding.
function maxPoolForward(x, k, s) {
  var out = [];
  for (var n = 0; n < x.length; n++) {
    out.push([]);
    for (var c = 0; c < x[n].length; c++) {
      var H = x[n][c].length, W = x[n][c][0].length;
      var Ho = Math.floor((H - k) / s) + 1, Wo = Math.floor((W - k) / s) + 1;
      var plane = [];
      for (var i = 0; i < Ho; i++) {
        var row = [];
        for (var j = 0; j < Wo; j++) {
          var best = -Infinity;
          for (var a = 0; a < k; a++)
            for (var b = 0; b < k; b++)
              best = Math.max(best, x[n][c][i * s + a][j * s + b]);
          row.push(best);
        }
        plane.push(row);
      }
      out[n].push(plane);
    }
  }
  return out;
}

function maxPoolBackward(dout, x, k, s) {
  var dx = x.map(function (img) { return img.map(function (p) { return p.map(function (r) { return r.map(function () { return 0; }); }); }); });
  for (var n = 0; n < dout.length; n++)
    for (var c = 0; c < dout[n].length; c++)
      for (var i = 0; i < dout[n][c].length; i++)
        for (var j = 0; j < dout[n][c][i].length; j++) {
          var best = -Infinity, bi = 0, bj = 0;
          for (var a = 0; a < k; a++)
            for (var b = 0; b < k; b++) {
              var v = x[n][c][i * s + a][j * s + b];
              if (v > best) { best = v; bi = i * s + a; bj = j * s + b; }
            }
          dx[n][c][bi][bj] += dout[n][c][i][j];
        }
  return dx;
}
