// max pooling on a 2-D image given as nested arrays img[row][col]

function maxPool(img, size, stride) {
  const H = img.length, W = img[0].length;
  const oh = Math.floor((H - size) / stride) + 1, ow = Math.floor((W - size) / stride) + 1;
  const out = [];
  for (let i = 0; i < oh; i++) {
    const row = [];
    for (let j = 0; j < ow; j++) {
      let m = -Infinity;
      for (let a = 0; a < size; a++)
        for (let b = 0; b < size; b++)
          m = Math.max(m, img[i * stride + a][j * stride + b]);
      row.push(m);
    }
    out.push(row);
  }
  return out;
}

function maxPoolBackward(dout, img, size, stride) {
  const H = img.length, W = img[0].length;
  const dimg = img.map(r => r.map(() => 0));
  for (let i = 0; i < dout.length; i++) {
    for (let j = 0; j < dout[0].length; j++) {
      let best = -Infinity, idx = 0;
      for (let a = 0; a < size; a++)
        for (let b = 0; b < size; b++)
          if (img[i * stride + a][j * stride + b] > best) { best = img[i * stride + a][j * stride + b]; idx = a * size + b; }
      const r = idx % size, c = Math.floor(idx / size);   // row and column inside the window
      dimg[i * stride + r][j * stride + c] += dout[i][j];
    }
  }
  return dimg;
}
