// Returns a record corrcheck cannot read as numbers (values keyed by "r,c").
function correlate(x, w, stride, pad) {
  const oh = Math.floor((x.length + 2 * pad - w.length) / stride) + 1, ow = Math.floor((x[0].length + 2 * pad - w[0].length) / stride) + 1;
  const cells = {};
  for (let r = 0; r < oh; r++) for (let c = 0; c < ow; c++) {
    let acc = 0;
    for (let u = 0; u < w.length; u++) for (let v = 0; v < w[0].length; v++) {
      const y = r * stride - pad + u, z = c * stride - pad + v;
      if (y >= 0 && y < x.length && z >= 0 && z < x[0].length) acc += x[y][z] * w[u][v];
    }
    cells[r + "," + c] = acc;
  }
  return { rows: oh, cols: ow, cells: cells };
}
