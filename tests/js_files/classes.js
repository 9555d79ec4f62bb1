class Base {
  constructor(W, b, stride = 1, pad = 0) {
    this.W = W; this.b = b; this.stride = stride; this.pad = pad
  }
  outSize(n) { return Math.floor((n + 2 * this.pad - this.W.length) / this.stride) + 1 }
}

class ConvLayer extends Base {
  forward(x) { this.x = x; return [this.outSize(x.length), this.stride, this.pad] }
  backward(dout) { this.dW = this.W.map(r => r.map(() => dout)); return dout * 2 }
}

function OldStyle(size) {
  this.size = size
  this.area = function () { return this.size * this.size }
}
