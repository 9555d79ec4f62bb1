module.exports = function backwardAll(dout, cache) {
  return [dout, cache];
};
