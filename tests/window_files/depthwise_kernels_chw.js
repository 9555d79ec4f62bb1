// Depthwise convolution with a channel multiplier, one image (C, H, W) as nested arrays.
// kernel[c * mult + m] is a k x k array applied to input channel c.

function zeros3(a, b, c) {
  const out = [];
  for (let i = 0; i < a; i++) {
    const plane = [];
    for (let j = 0; j < b; j++) plane.push(new Array(c).fill(0));
    out.push(plane);
  }
  return out;
}

function depthwiseForward(input, kernel, stride, pad, depth_multiplier) {
  const C = input.length, H = input[0].length, W = input[0][0].length;
  const k = kernel[0].length;
  const oh = Math.floor((H + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((W + 2 * pad - k) / stride) + 1;
  const out = zeros3(C * depth_multiplier, oh, ow);
  for (let c = 0; c < C; c++) {
    for (let m = 0; m < depth_multiplier; m++) {
      const oc = c * depth_multiplier + m;
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          let acc = 0;
          for (let u = 0; u < k; u++) {
            for (let v = 0; v < k; v++) {
              const iy = y * stride + u - pad, ix = x * stride + v - pad;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              acc += input[c][iy][ix] * kernel[oc][u][v];
            }
          }
          out[oc][y][x] = acc;
        }
      }
    }
  }
  return out;
}

function depthwiseBackward(dout, input, kernel, stride, pad, depth_multiplier) {
  const C = input.length, H = input[0].length, W = input[0][0].length;
  const k = kernel[0].length;
  const dinput = zeros3(C, H, W);
  const dkernel = zeros3(C * depth_multiplier, k, k);
  for (let c = 0; c < C; c++) {
    for (let m = 0; m < depth_multiplier; m++) {
      const oc = c * depth_multiplier + m;
      for (let y = 0; y < dout[oc].length; y++) {
        for (let x = 0; x < dout[oc][0].length; x++) {
          const g = dout[oc][y][x];
          for (let u = 0; u < k; u++) {
            for (let v = 0; v < k; v++) {
              const iy = y * stride + u - pad, ix = x * stride + v - pad;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              dinput[c][iy][ix] += g * kernel[oc][u][v];
              dkernel[oc][u][v] += g * input[c][iy][ix];
            }
          }
        }
      }
    }
  }
  return [dinput, dkernel];
}

module.exports = { depthwiseForward, depthwiseBackward };
