// A ConvNetJS-style library: volumes store their numbers in one flat array `w`
// (index ((sx * y) + x) * depth + d), layers read and write volumes, and the
// backward pass leaves gradients in `dw` fields. corrcheck cannot discover this
// shape of API by itself: vol_adapter.js wraps it in plain functions.
var vlib = vlib || {};

vlib.Vol = function (sx, sy, depth, fill) {
  this.sx = sx; this.sy = sy; this.depth = depth;
  var n = sx * sy * depth;
  this.w = new Array(n).fill(fill === undefined ? 0 : fill);
  this.dw = new Array(n).fill(0);
};
vlib.Vol.prototype.get = function (x, y, d) { return this.w[((this.sx * y) + x) * this.depth + d]; };
vlib.Vol.prototype.set = function (x, y, d, v) { this.w[((this.sx * y) + x) * this.depth + d] = v; };
vlib.Vol.prototype.getGrad = function (x, y, d) { return this.dw[((this.sx * y) + x) * this.depth + d]; };
vlib.Vol.prototype.addGrad = function (x, y, d, v) { this.dw[((this.sx * y) + x) * this.depth + d] += v; };

// One filter bank; filters[f] is a Vol (fw, fh, in_depth); biases a Vol (1, 1, F).
vlib.ConvLayer = function (opt) {
  this.sx = opt.sx; this.sy = opt.sy; this.in_depth = opt.in_depth; this.out_depth = opt.filters;
  this.stride = opt.stride; this.pad = opt.pad;
  this.in_sx = opt.in_sx; this.in_sy = opt.in_sy;
  this.out_sx = Math.floor((this.in_sx + this.pad * 2 - this.sx) / this.stride + 1);
  this.out_sy = Math.floor((this.in_sy + this.pad * 2 - this.sy) / this.stride + 1);
  this.filters = [];
  for (var i = 0; i < this.out_depth; i++) this.filters.push(new vlib.Vol(this.sx, this.sy, this.in_depth));
  this.biases = new vlib.Vol(1, 1, this.out_depth, 0);
};

vlib.ConvLayer.prototype.forward = function (V) {
  this.in_act = V;
  var A = new vlib.Vol(this.out_sx, this.out_sy, this.out_depth, 0);
  for (var d = 0; d < this.out_depth; d++) {
    var f = this.filters[d];
    for (var ay = 0; ay < this.out_sy; ay++) {
      for (var ax = 0; ax < this.out_sx; ax++) {
        var x = ax * this.stride - this.pad, y = ay * this.stride - this.pad, a = 0.0;
        for (var fy = 0; fy < f.sy; fy++) {
          var oy = y + fy;
          for (var fx = 0; fx < f.sx; fx++) {
            var ox = x + fx;
            if (oy >= 0 && oy < V.sy && ox >= 0 && ox < V.sx)
              for (var fd = 0; fd < f.depth; fd++) a += f.get(fx, fy, fd) * V.get(ox, oy, fd);
          }
        }
        A.set(ax, ay, d, a + this.biases.w[d]);
      }
    }
  }
  this.out_act = A;
  return A;
};

vlib.ConvLayer.prototype.backward = function () {
  var V = this.in_act;
  V.dw = new Array(V.w.length).fill(0);
  for (var d = 0; d < this.out_depth; d++) {
    var f = this.filters[d];
    for (var ay = 0; ay < this.out_sy; ay++) {
      for (var ax = 0; ax < this.out_sx; ax++) {
        var x = ax * this.stride - this.pad, y = ay * this.stride - this.pad;
        var g = this.out_act.getGrad(ax, ay, d);
        for (var fy = 0; fy < f.sy; fy++) {
          var oy = y + fy;
          for (var fx = 0; fx < f.sx; fx++) {
            var ox = x + fx;
            if (oy >= 0 && oy < V.sy && ox >= 0 && ox < V.sx)
              for (var fd = 0; fd < f.depth; fd++) {
                f.addGrad(fx, fy, fd, V.get(ox, oy, fd) * g);
                V.addGrad(ox, oy, fd, f.get(fx, fy, fd) * g);
              }
          }
        }
        this.biases.dw[d] += g;
      }
    }
  }
};
