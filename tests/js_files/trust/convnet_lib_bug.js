// The same library with one mistake: the filter gradient is written with its two axes swapped where they fit.
// channel-major order, ((d * sy) + y) * sx + x) and a `dw`; layers take an options object; the
// backward pass writes into the input volume's dw and each filter's dw.
var convnet = convnet || {};

convnet.Vol = function (sx, sy, depth, c) {
  this.sx = sx; this.sy = sy; this.depth = depth;
  var n = sx * sy * depth;
  this.w = new Array(n).fill(c === undefined ? 0 : c);
  this.dw = new Array(n).fill(0);
};
convnet.Vol.prototype.get = function (x, y, d) { return this.w[((d * this.sy) + y) * this.sx + x]; };
convnet.Vol.prototype.set = function (x, y, d, v) { this.w[((d * this.sy) + y) * this.sx + x] = v; };
convnet.Vol.prototype.addGrad = function (x, y, d, v) { this.dw[((d * this.sy) + y) * this.sx + x] += v; };
convnet.Vol.prototype.getGrad = function (x, y, d) { return this.dw[((d * this.sy) + y) * this.sx + x]; };

convnet.ConvLayer = function (opt) {
  this.sx = opt.sx; this.sy = opt.sy !== undefined ? opt.sy : opt.sx;
  this.in_depth = opt.in_depth; this.in_sx = opt.in_sx; this.in_sy = opt.in_sy;
  this.out_depth = opt.filters;
  this.stride = opt.stride !== undefined ? opt.stride : 1;
  this.pad = opt.pad !== undefined ? opt.pad : 0;
  this.out_sx = Math.floor((this.in_sx + this.pad * 2 - this.sx) / this.stride + 1);
  this.out_sy = Math.floor((this.in_sy + this.pad * 2 - this.sy) / this.stride + 1);
  this.filters = [];
  for (var i = 0; i < this.out_depth; i++) this.filters.push(new convnet.Vol(this.sx, this.sy, this.in_depth));
  this.biases = new convnet.Vol(1, 1, this.out_depth, 0.1);
};
convnet.ConvLayer.prototype.forward = function (V, is_training) {
  this.in_act = V;
  var A = new convnet.Vol(this.out_sx, this.out_sy, this.out_depth, 0);
  for (var d = 0; d < this.out_depth; d++) {
    var f = this.filters[d];
    for (var ay = 0; ay < this.out_sy; ay++) for (var ax = 0; ax < this.out_sx; ax++) {
      var a = 0;
      for (var fy = 0; fy < f.sy; fy++) for (var fx = 0; fx < f.sx; fx++) {
        var oy = ay * this.stride - this.pad + fy, ox = ax * this.stride - this.pad + fx;
        if (oy >= 0 && oy < V.sy && ox >= 0 && ox < V.sx)
          for (var fd = 0; fd < f.depth; fd++) a += f.get(fx, fy, fd) * V.get(ox, oy, fd);
      }
      A.set(ax, ay, d, a + this.biases.w[d]);
    }
  }
  this.out_act = A;
  return this.out_act;
};
convnet.ConvLayer.prototype.backward = function () {
  var V = this.in_act;
  V.dw = new Array(V.w.length).fill(0);
  for (var d = 0; d < this.out_depth; d++) {
    var f = this.filters[d];
    for (var ay = 0; ay < this.out_sy; ay++) for (var ax = 0; ax < this.out_sx; ax++) {
      var g = this.out_act.getGrad(ax, ay, d);
      for (var fy = 0; fy < f.sy; fy++) for (var fx = 0; fx < f.sx; fx++) {
        var oy = ay * this.stride - this.pad + fy, ox = ax * this.stride - this.pad + fx;
        if (oy >= 0 && oy < V.sy && ox >= 0 && ox < V.sx)
          for (var fd = 0; fd < f.depth; fd++) {
            f.addGrad(fy < f.sx && fx < f.sy ? fy : fx, fy < f.sx && fx < f.sy ? fx : fy, fd, V.get(ox, oy, fd) * g);
            V.addGrad(ox, oy, fd, f.get(fx, fy, fd) * g);
          }
      }
      this.biases.dw[d] += g;
    }
  }
};

convnet.FullyConnLayer = function (opt) {
  this.out_depth = opt.num_neurons; this.num_inputs = opt.in_sx * opt.in_sy * opt.in_depth;
  this.filters = [];
  for (var i = 0; i < this.out_depth; i++) this.filters.push(new convnet.Vol(1, 1, this.num_inputs));
  this.biases = new convnet.Vol(1, 1, this.out_depth, 0);
};
convnet.FullyConnLayer.prototype.forward = function (V) {
  this.in_act = V;
  var A = new convnet.Vol(1, 1, this.out_depth, 0);
  for (var i = 0; i < this.out_depth; i++) {
    var a = 0;
    for (var d = 0; d < this.num_inputs; d++) a += V.w[d] * this.filters[i].w[d];
    A.w[i] = a + this.biases.w[i];
  }
  this.out_act = A;
  return A;
};
convnet.FullyConnLayer.prototype.backward = function () {
  var V = this.in_act;
  V.dw = new Array(V.w.length).fill(0);
  for (var i = 0; i < this.out_depth; i++) {
    var g = this.out_act.dw[i];
    for (var d = 0; d < this.num_inputs; d++) { V.dw[d] += this.filters[i].w[d] * g; this.filters[i].dw[d] += V.w[d] * g; }
    this.biases.dw[i] += g;
  }
};

convnet.ReluLayer = function (opt) { this.out_depth = opt.in_depth; };
convnet.ReluLayer.prototype.forward = function (V) {
  this.in_act = V;
  var A = new convnet.Vol(V.sx, V.sy, V.depth, 0);
  for (var i = 0; i < V.w.length; i++) A.w[i] = V.w[i] < 0 ? 0 : V.w[i];
  this.out_act = A;
  return A;
};
convnet.ReluLayer.prototype.backward = function () {
  var V = this.in_act;
  V.dw = new Array(V.w.length).fill(0);
  for (var i = 0; i < V.w.length; i++) V.dw[i] = this.out_act.w[i] <= 0 ? 0 : this.out_act.dw[i];
};
