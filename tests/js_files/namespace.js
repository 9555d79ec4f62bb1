// Browser script: one global namespace object, nested, with a constructor.
var mlib = mlib || {};
mlib.layers = mlib.layers || {};

mlib.scale = 3;
mlib.conv = function (x, w, stride, pad) { return this.scale * x.length + w.length + stride + pad };
mlib.layers.conv = function (input, kernel) { return input.length * kernel.length };

mlib.Conv = function (W, b, stride, pad) {
  this.W = W;
  this.b = b;
  this.stride = stride || 1;
  this.pad = pad || 0;
};

mlib.Conv.prototype.forward = function (x) {
  this.x = x;
  return x.map(row => row.map(v => v * this.W[0][0] + this.b[0]));
};

mlib.Conv.prototype.backward = function (dout) {
  this.dW = [[dout.length]];
  this.db = [dout[0][0]];
  return dout;
};
