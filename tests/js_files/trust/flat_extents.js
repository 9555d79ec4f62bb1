// WebGL-style correlation on flat row-major typed arrays with explicit extents.
function conv2d(input, width, height, kernel, kw, kh, stride, pad) {
  var ow = Math.floor((width + 2 * pad - kw) / stride) + 1;
  var oh = Math.floor((height + 2 * pad - kh) / stride) + 1;
  var out = new Float64Array(ow * oh);
  for (var r = 0; r < oh; r++)
    for (var c = 0; c < ow; c++) {
      var acc = 0;
      for (var i = 0; i < kh; i++)
        for (var j = 0; j < kw; j++) {
          var y = r * stride - pad + i, x = c * stride - pad + j;
          if (y >= 0 && y < height && x >= 0 && x < width) acc += input[y * width + x] * kernel[i * kw + j];
        }
      out[r * ow + c] = acc;
    }
  return out;
}

function conv2dGradInput(dout, width, height, kernel, kw, kh, stride, pad) {
  var ow = Math.floor((width + 2 * pad - kw) / stride) + 1;
  var oh = Math.floor((height + 2 * pad - kh) / stride) + 1;
  var dx = new Float64Array(width * height);
  for (var r = 0; r < oh; r++)
    for (var c = 0; c < ow; c++)
      for (var i = 0; i < kh; i++)
        for (var j = 0; j < kw; j++) {
          var y = r * stride - pad + i, x = c * stride - pad + j;
          if (y >= 0 && y < height && x >= 0 && x < width) dx[y * width + x] += dout[r * ow + c] * kernel[i * kw + j];
        }
  return dx;
}

function conv2dGradKernel(dout, input, width, height, kw, kh, stride, pad) {
  var ow = Math.floor((width + 2 * pad - kw) / stride) + 1;
  var oh = Math.floor((height + 2 * pad - kh) / stride) + 1;
  var dk = new Float64Array(kw * kh);
  for (var r = 0; r < oh; r++)
    for (var c = 0; c < ow; c++)
      for (var i = 0; i < kh; i++)
        for (var j = 0; j < kw; j++) {
          var y = r * stride - pad + i, x = c * stride - pad + j;
          if (y >= 0 && y < height && x >= 0 && x < width) dk[i * kw + j] += dout[r * ow + c] * input[y * width + x];
        }
  return dk;
}
