// Adapter: plain functions over nested arrays (corrcheck's functional convention, layout chw:
// x[c][y][x], w[f][c][y][x], out[f][y][x]) that drive vol_library.js's ConvLayer.
//   corrcheck run vol_library.js vol_adapter.js --layout chw --stride 2 --pad 1
function toVol(x) {                        // x[c][y][x] -> Vol(sx, sy, depth)
  var V = new vlib.Vol(x[0][0].length, x[0].length, x.length, 0);
  for (var c = 0; c < x.length; c++) for (var y = 0; y < V.sy; y++) for (var i = 0; i < V.sx; i++) V.set(i, y, c, x[c][y][i]);
  return V;
}
function fromVol(V, grad) {                // Vol -> a[c][y][x] (values or gradients)
  var out = [];
  for (var c = 0; c < V.depth; c++) {
    var plane = [];
    for (var y = 0; y < V.sy; y++) { var row = []; for (var i = 0; i < V.sx; i++) row.push(grad ? V.getGrad(i, y, c) : V.get(i, y, c)); plane.push(row); }
    out.push(plane);
  }
  return out;
}
function layerFor(x, w, stride, pad) {
  var L = new vlib.ConvLayer({sx: w[0][0][0].length, sy: w[0][0].length, in_depth: x.length, filters: w.length,
                              stride: stride, pad: pad, in_sx: x[0][0].length, in_sy: x[0].length});
  for (var f = 0; f < w.length; f++) L.filters[f] = toVol(w[f]);
  return L;
}
function forward(x, w, stride, pad) {
  return fromVol(layerFor(x, w, stride, pad).forward(toVol(x)), false);
}
function backward(dout, x, w, stride, pad) {   // returns [dx, dw]
  var L = layerFor(x, w, stride, pad), A = L.forward(toVol(x));
  for (var f = 0; f < dout.length; f++) for (var y = 0; y < A.sy; y++) for (var i = 0; i < A.sx; i++) A.dw[((A.sx * y) + i) * A.depth + f] = dout[f][y][i];
  L.backward();
  return [fromVol(L.in_act, true), L.filters.map(function (F) { return fromVol(F, true); })];
}
