// Flat RGBA canvas data with an extra parameter corrcheck cannot place (the blend factor).
function convolveCanvas(pixels, width, height, kernel, kw, kh, stride, pad, blend) {
  var ow = Math.floor((width + 2 * pad - kw) / stride) + 1, oh = Math.floor((height + 2 * pad - kh) / stride) + 1;
  var out = new Float64Array(ow * oh);
  for (var r = 0; r < oh; r++) for (var c = 0; c < ow; c++) {
    var acc = 0;
    for (var i = 0; i < kh; i++) for (var j = 0; j < kw; j++) {
      var y = r * stride - pad + i, x = c * stride - pad + j;
      if (y >= 0 && y < height && x >= 0 && x < width) acc += pixels[y * width + x] * kernel[i * kw + j];
    }
    out[r * ow + c] = blend * acc;
  }
  return out;
}
